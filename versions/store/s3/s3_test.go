package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/datomfs/datomfs/internal/testenv"
	"github.com/datomfs/datomfs/versions/store"
	"github.com/datomfs/datomfs/versions/store/storetest"
)

// server is one Versity gateway per top-level test, with a fresh bucket per
// store.
type server struct {
	*testenv.S3Server
	n atomic.Int64
}

func newServer(t *testing.T) *server { return &server{S3Server: testenv.Versity(t)} }

func (v *server) creds() *Credentials {
	return &Credentials{AccessKeyID: v.AccessKey, SecretAccessKey: v.SecretKey}
}

// newStore creates a bucket and a store on it; edit adjusts the options.
func (v *server) newStore(t *testing.T, edit func(*Options)) *S3 {
	t.Helper()
	bucket := fmt.Sprintf("bucket-%d", v.n.Add(1))
	v.CreateBucket(t, bucket)
	opts := Options{Bucket: bucket, Prefix: "proj/", Endpoint: v.Endpoint, Credentials: v.creds()}
	if edit != nil {
		edit(&opts)
	}
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	v := newServer(t)
	t.Run("PutObject", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return v.newStore(t, nil) })
	})
	// Every object above 1 KiB goes through a multipart upload.
	t.Run("Multipart", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store {
			return v.newStore(t, func(o *Options) { o.MultipartThreshold = 1024; o.PartSize = MinPartSize })
		})
	})
}

func TestMultipartLarge(t *testing.T) {
	v := newServer(t)
	s := v.newStore(t, func(o *Options) { o.MultipartThreshold = MinPartSize; o.PartSize = MinPartSize; o.Concurrency = 2 })
	ctx := context.Background()
	data := storetest.Bytes(42, 3*MinPartSize+12345) // 4 parts, the last one short
	var mu sync.Mutex
	var calls []int64
	progress := func(done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if total != int64(len(data)) {
			t.Errorf("progress total %d, want %d", total, len(data))
		}
		calls = append(calls, done)
	}
	const key = "proj/datom/lb/big.parquet"
	if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{Progress: progress}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if len(calls) != 4 || calls[len(calls)-1] != int64(len(data)) {
		t.Errorf("progress calls %v, want one per part (4) ending at %d", calls, len(data))
	}
	info, err := s.Stat(ctx, key)
	if err != nil || info.Size != int64(len(data)) {
		t.Fatalf("Stat = %+v, %v; want size %d", info, err, len(data))
	}
	if !strings.HasSuffix(info.ETag, "-4") {
		t.Errorf("ETag %q: want a multipart ETag of 4 parts", info.ETag)
	}
	for _, r := range [][2]int64{{0, -1}, {MinPartSize - 10, 20}, {2*MinPartSize + 7, MinPartSize}, {int64(len(data)) - 5, 100}} {
		rc, err := s.Open(ctx, key, r[0], r[1])
		if err != nil {
			t.Fatalf("Open(%d, %d): %v", r[0], r[1], err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		end := int64(len(data))
		if r[1] >= 0 {
			end = min(end, r[0]+r[1])
		}
		if err != nil || !bytes.Equal(got, data[r[0]:end]) {
			t.Errorf("Open(%d, %d): %d bytes, %v; want bytes [%d, %d)", r[0], r[1], len(got), err, r[0], end)
		}
	}
	// A file is uploaded from its current offset without being buffered.
	f := writeTemp(t, append([]byte("HEADER"), data...))
	if _, err := f.Seek(6, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, key+"2", f, int64(len(data)), store.PutOptions{}); err != nil {
		t.Fatalf("Put from file: %v", err)
	}
	if got := readAll(t, s, key+"2"); !bytes.Equal(got, data) {
		t.Errorf("object put from a file differs (%d bytes)", len(got))
	}
	// No multipart upload is left behind.
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left open", len(ups.Uploads))
	}
}

func TestMultipartFailureAborts(t *testing.T) {
	v := newServer(t)
	s := v.newStore(t, func(o *Options) { o.MultipartThreshold = MinPartSize; o.PartSize = MinPartSize })
	ctx := context.Background()
	data := storetest.Bytes(43, 2*MinPartSize+1)
	// The reader is one byte short: found while reading the last part.
	err := s.Put(ctx, "proj/datom/lb/short.parquet", bytes.NewReader(data[:len(data)-1]), int64(len(data)), store.PutOptions{})
	if !errors.Is(err, store.ErrSizeMismatch) {
		t.Fatalf("Put of a short reader: %v, want ErrSizeMismatch", err)
	}
	// One byte too many: found after the last part.
	err = s.Put(ctx, "proj/datom/lb/long.parquet", bytes.NewReader(append(data, 'x')), int64(len(data)), store.PutOptions{})
	if !errors.Is(err, store.ErrSizeMismatch) {
		t.Fatalf("Put of a long reader: %v, want ErrSizeMismatch", err)
	}
	list, err := s.List(ctx, "")
	if err != nil || len(list) != 0 {
		t.Errorf("List after failed uploads = %+v, %v; want nothing", list, err)
	}
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left open after failures; want them aborted", len(ups.Uploads))
	}
}

func TestChecksumAndContentType(t *testing.T) {
	v := newServer(t)
	s := v.newStore(t, nil)
	ctx := context.Background()
	data := []byte(`{"a": 1}`)
	const key = "proj/datom/dm/.metadata/metadata.json"
	if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), store.PutOptions{ContentType: store.ContentTypeJSON}); err != nil {
		t.Fatal(err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got, want := aws.ToString(out.ChecksumSHA256), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("stored SHA-256 checksum %q, want %q", got, want)
	}
	if got := aws.ToString(out.ContentType); got != "application/json" {
		t.Errorf("Content-Type %q, want application/json", got)
	}
	// The server checks what we send: a wrong checksum is refused.
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String("proj/datom/bad"),
		Body: bytes.NewReader(data), ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 32))),
	})
	if err == nil {
		t.Errorf("PutObject with a wrong SHA-256 checksum succeeded")
	}
}

// TestKnownSHA256: a Put told the bytes' SHA-256 (a version's parquet_sha)
// sends it as the checksum without hashing again; the server checks it, so
// a wrong one fails the Put and stores nothing. A multipart upload's parts
// carry CRC32C checksums, also checked by the server.
func TestKnownSHA256(t *testing.T) {
	v := newServer(t)
	s := v.newStore(t, func(o *Options) { o.MultipartThreshold = MinPartSize; o.PartSize = MinPartSize })
	ctx := context.Background()
	data := storetest.Bytes(7, 4096)
	path := filepath.Join(t.TempDir(), "x.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	put := func(key string, known []byte) error {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return s.Put(ctx, key, f, int64(len(data)), store.PutOptions{SHA256: known})
	}
	if err := put("proj/datom/lb/good.parquet", sum[:]); err != nil {
		t.Fatal(err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String("proj/datom/lb/good.parquet"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.ChecksumSHA256), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("stored SHA-256 checksum %q, want %q", got, want)
	}
	wrong := sha256.Sum256([]byte("other bytes"))
	if err := put("proj/datom/lb/bad.parquet", wrong[:]); err == nil {
		t.Error("a Put with a wrong known SHA-256 succeeded")
	}
	if _, err := s.Stat(ctx, "proj/datom/lb/bad.parquet"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused Put left an object: %v", err)
	}
	// A file that is not the size said is refused before any request.
	f, _ := os.Open(path)
	defer f.Close()
	if err := s.Put(ctx, "proj/datom/lb/short.parquet", f, int64(len(data))+1, store.PutOptions{SHA256: sum[:]}); !errors.Is(err, store.ErrSizeMismatch) {
		t.Errorf("short file with a known SHA-256: %v, want ErrSizeMismatch", err)
	}

	big := storetest.Bytes(8, 2*MinPartSize+5)
	if err := s.Put(ctx, "proj/datom/lb/big.parquet", bytes.NewReader(big), int64(len(big)), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err = s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String("proj/datom/lb/big.parquet"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ChecksumCRC32C) == "" {
		t.Errorf("multipart object has no CRC32C checksum: %+v", out)
	}
	// The server refuses a part whose CRC32C does not match its bytes.
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String("proj/datom/x"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(s.bucket), Key: aws.String("proj/datom/x"), UploadId: up.UploadId, PartNumber: aws.Int32(1),
		Body: bytes.NewReader(big[:MinPartSize]), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
		ChecksumCRC32C: aws.String(crc32cBase64(big[1 : MinPartSize+1])),
	})
	if err == nil {
		t.Error("a part with a wrong CRC32C was accepted")
	}
	s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String("proj/datom/x"), UploadId: up.UploadId})
}

// TestGetHook: store.WithGetHook over S3 sees each ranged GET with the
// bytes the response carried (the CLI logs them; e2e tests parse the log).
func TestGetHook(t *testing.T) {
	v := newServer(t)
	type get struct {
		key            string
		offset, length int64
	}
	var mu sync.Mutex
	var gets []get
	s := v.newStore(t, nil)
	hooked := store.WithGetHook(s, func(key string, offset, length int64) {
		mu.Lock()
		gets = append(gets, get{key, offset, length})
		mu.Unlock()
	})
	const key = "proj/datom/lb/x.parquet"
	data := storetest.Bytes(9, 100)
	if err := s.Put(context.Background(), key, bytes.NewReader(data), 100, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{{0, 10}, {5, -1}, {90, 50}, {0, -1}} {
		rc, err := hooked.Open(context.Background(), key, r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	want := []get{{key, 0, 10}, {key, 5, 95}, {key, 90, 10}, {key, 0, 100}}
	if fmt.Sprint(gets) != fmt.Sprint(want) {
		t.Errorf("hook calls %v, want %v", gets, want)
	}
	if _, ok := store.As[store.Checker](hooked); !ok {
		t.Error("the S3 store's Check is not reachable through the decorator")
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	const secret = "very-secret-key-material"
	s, err := New(context.Background(), Options{
		Bucket: "b", Endpoint: endpoint,
		Credentials: &Credentials{AccessKeyID: "AKID", SecretAccessKey: secret},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A generous deadline: the store must give up by itself, well before it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrUnreachable) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a dead endpoint: %v; want ErrUnreachable before the deadline", op, err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s error shows the secret key: %v", op, err)
		}
	}
	check("Check", s.Check(ctx))
	_, err = s.Stat(ctx, "datom/x")
	check("Stat", err)
	_, err = s.Open(ctx, "datom/x", 0, -1)
	check("Open", err)
	check("Put", s.Put(ctx, "datom/x", strings.NewReader("x"), 1, store.PutOptions{}))
	_, err = s.List(ctx, "datom/")
	check("List", err)
	if err := s.Check(ctx); err == nil || !strings.Contains(err.Error(), endpoint) {
		t.Errorf("error %v does not name the endpoint %s", err, endpoint)
	}
}

func TestMissingBucket(t *testing.T) {
	v := newServer(t)
	s, err := New(context.Background(), Options{Bucket: "no-such-bucket", Endpoint: v.Endpoint, Credentials: v.creds()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = s.Check(ctx)
	if !errors.Is(err, store.ErrUnreachable) || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist`) {
		t.Errorf("Check of a missing bucket: %v; want ErrUnreachable saying the bucket does not exist", err)
	}
	if _, err := s.Open(ctx, "datom/x", 0, -1); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("Open in a missing bucket: %v, want ErrUnreachable", err)
	}
	if err := s.Put(ctx, "datom/x", strings.NewReader("x"), 1, store.PutOptions{}); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("Put in a missing bucket: %v, want ErrUnreachable", err)
	}
	if _, err := s.List(ctx, ""); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("List of a missing bucket: %v, want ErrUnreachable", err)
	}
	if err := s.Remove(ctx, "datom/x"); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("Remove in a missing bucket: %v, want ErrUnreachable", err)
	}
	good := v.newStore(t, nil)
	if err := good.Check(ctx); err != nil {
		t.Errorf("Check of an existing bucket: %v", err)
	}
}

func TestWrongCredentials(t *testing.T) {
	v := newServer(t)
	good := v.newStore(t, nil)
	const secret = "wrong-secret-0123456789"
	s, err := New(context.Background(), Options{
		Bucket: good.bucket, Endpoint: v.Endpoint,
		Credentials: &Credentials{AccessKeyID: v.AccessKey, SecretAccessKey: secret},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	errs := map[string]error{"Check": s.Check(ctx), "Put": s.Put(ctx, "datom/x", strings.NewReader("x"), 1, store.PutOptions{})}
	_, errs["Stat"] = s.Stat(ctx, "datom/x")
	_, errs["List"] = s.List(ctx, "")
	_, errs["Open"] = s.Open(ctx, "datom/x", 0, -1)
	for op, err := range errs {
		if !errors.Is(err, store.ErrPermission) || !store.IsPermanent(err) {
			t.Errorf("%s with a wrong secret: %v; want permanent ErrPermission", op, err)
		}
		if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), v.SecretKey)) {
			t.Errorf("%s error shows a secret key: %v", op, err)
		}
	}
	if got := fmt.Sprintf("%v %+v %#v %s", s, Options{Credentials: &Credentials{SecretAccessKey: secret}}, Credentials{SecretAccessKey: secret}, Credentials{SecretAccessKey: secret}); strings.Contains(got, secret) {
		t.Errorf("printing options shows the secret: %s", got)
	}
}

// TestDefaultChain runs with the environment a CLI subprocess gets
// (testenv.Env): credentials, endpoint and region all come from the SDK's
// default chain, and the custom endpoint implies path-style addressing.
func TestDefaultChain(t *testing.T) {
	v := newServer(t)
	bucket := "env-bucket"
	v.CreateBucket(t, bucket)
	empty := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_PROFILE", "")
	for _, kv := range v.Env() {
		k, val, _ := strings.Cut(kv, "=")
		t.Setenv(k, val)
	}
	ctx := context.Background()
	s, err := New(ctx, Options{Bucket: bucket, Prefix: "p"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := s.Put(ctx, "p/datom/x", strings.NewReader("hello"), 5, store.PutOptions{}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got := readAll(t, s, "p/datom/x"); string(got) != "hello" {
		t.Errorf("read %q, want hello", got)
	}
	if _, err := os.Stat(filepath.Join(v.Dir, bucket, "p", "datom", "x")); err != nil {
		t.Errorf("object not in bucket %s on the server: %v", bucket, err)
	}
	if got := s.Location(); got != "s3://env-bucket/p" {
		t.Errorf("Location() = %q, want s3://env-bucket/p", got)
	}
	// With no region anywhere, us-east-1 is used.
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	s, err = New(ctx, Options{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.client.Options().Region; got != DefaultRegion {
		t.Errorf("region %q, want %q", got, DefaultRegion)
	}
	if !s.client.Options().UsePathStyle {
		t.Errorf("AWS_ENDPOINT_URL set but path-style addressing is off")
	}
}

func TestNewRejects(t *testing.T) {
	ctx := context.Background()
	if _, err := New(ctx, Options{}); !errors.Is(err, store.ErrBadLocation) {
		t.Errorf("New without a bucket: %v, want ErrBadLocation", err)
	}
	if _, err := New(ctx, Options{Bucket: "b", PartSize: 1024}); err == nil {
		t.Errorf("New with a part size below S3's minimum succeeded")
	}
}

func writeTemp(t *testing.T, data []byte) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "src")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f
}

func readRange(t *testing.T, s *S3, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.Open(context.Background(), key, offset, length)
	if err != nil {
		t.Fatalf("Open(%q, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

func readAll(t *testing.T, s *S3, key string) []byte { return readRange(t, s, key, 0, -1) }

func TestHugeLength(t *testing.T) {
	v := newServer(t)
	s := v.newStore(t, nil)
	if err := s.Put(context.Background(), "datom/x", strings.NewReader("abc"), 3, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := readRange(t, s, "datom/x", 1, 1<<63-1); string(got) != "bc" {
		t.Errorf("Open(1, MaxInt64) read %q, want %q", got, "bc")
	}
}

// Multipart uploads a killed writer left open are found by age under a
// prefix, and aborted on request; younger ones (maybe a live writer's) and
// other prefixes' are left alone.
func TestStaleUploads(t *testing.T) {
	v := newServer(t)
	s := v.newStore(t, nil)
	ctx := context.Background()
	open := func(key string) {
		t.Helper()
		if _, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}); err != nil {
			t.Fatalf("CreateMultipartUpload %s: %v", key, err)
		}
	}
	open("proj/datom/lb/a.parquet")
	open("proj/datom/dm/b.parquet")
	open("other/datom/lb/c.parquet")
	if got, err := s.StaleUploads(ctx, "proj/", time.Hour, true); err != nil || len(got) != 0 {
		t.Fatalf("uploads older than an hour = %v, %v; want none (they are fresh)", got, err)
	}
	// A negative age takes every upload for stale.
	got, err := s.StaleUploads(ctx, "proj/", -time.Hour, false)
	if err != nil || !slices.Equal(got, []string{"proj/datom/dm/b.parquet", "proj/datom/lb/a.parquet"}) {
		t.Fatalf("StaleUploads(proj/) = %v, %v", got, err)
	}
	if got, err := s.StaleUploads(ctx, "proj/", -time.Hour, true); err != nil || len(got) != 2 {
		t.Fatalf("abort = %v, %v", got, err)
	}
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 1 || aws.ToString(ups.Uploads[0].Key) != "other/datom/lb/c.parquet" {
		t.Fatalf("uploads left after aborting proj/: %d, want only other/'s", len(ups.Uploads))
	}
}
