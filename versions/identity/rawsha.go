package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// SHA256Reader returns the lowercase hex SHA-256 of everything r yields and
// the number of bytes read (parquet_sha, original_file_sha and size_bytes,
// contract 4.4). It stops early with ctx's error when ctx is cancelled.
func SHA256Reader(ctx context.Context, r io.Reader) (string, int64, error) {
	return sha256Reader(ctx, r, 1<<20)
}

// sha256Reader is SHA256Reader reading bufSize bytes at a time.
func sha256Reader(ctx context.Context, r io.Reader, bufSize int) (string, int64, error) {
	h := sha256.New()
	buf := make([]byte, bufSize)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return "", n, err
		}
		k, err := r.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			n += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", n, fmt.Errorf("read after %d bytes: %w", n, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// SHA256File is SHA256Reader over the file at path.
func SHA256File(ctx context.Context, path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("sha256 of file: %w", err)
	}
	defer f.Close()
	// A small file needs no 1 MiB buffer (a sync hashes thousands).
	bufSize := 1 << 20
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < int64(bufSize) {
		bufSize = max(int(fi.Size())+1, 4096)
	}
	sum, n, err := sha256Reader(ctx, f, bufSize)
	if err != nil {
		return "", n, fmt.Errorf("sha256 of %s: %w", path, err)
	}
	return sum, n, nil
}
