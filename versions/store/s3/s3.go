// Package s3 is a store.Store on an S3 bucket (AWS or an S3-compatible server)
// through aws-sdk-go-v2. Credentials come from the SDK's default chain
// (environment, shared config and profiles, SSO, instance roles) unless
// Options.Credentials is set; they never appear in errors or logs.
package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/datomfs/datomfs/internal/netdeadline"
	"github.com/datomfs/datomfs/internal/redact"
	"github.com/datomfs/datomfs/versions/store"
)

var (
	_ store.Store   = (*S3)(nil)
	_ store.Checker = (*S3)(nil)
)

// Defaults for Options.
const (
	DefaultRegion             = "us-east-1"
	DefaultMultipartThreshold = 16 << 20
	DefaultPartSize           = 8 << 20
	MinPartSize               = 5 << 20 // S3's minimum for all parts but the last
	DefaultConcurrency        = 4
	DefaultMaxAttempts        = 3
	DefaultDialTimeout        = netdeadline.DefaultDialTimeout
	DefaultIdleTimeout        = netdeadline.DefaultIdleTimeout

	// abortTimeout bounds the abort of a failed multipart upload;
	// abortUnreachableTimeout when the upload failed because the server
	// stopped answering (it will hardly answer the abort, and the caller
	// has waited an idle timeout already).
	abortTimeout            = 30 * time.Second
	abortUnreachableTimeout = 10 * time.Second
)

// Credentials are static S3 credentials. They print as "<redacted>".
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

func (Credentials) String() string               { return "<redacted>" }
func (Credentials) GoString() string             { return "<redacted>" }
func (Credentials) LogValue() slog.Value         { return slog.StringValue("<redacted>") }
func (c Credentials) Format(f fmt.State, _ rune) { fmt.Fprint(f, "<redacted>") }

// Options configures New.
type Options struct {
	Bucket string
	// Prefix is the store prefix, used only to name the store in messages:
	// keys handed to the store already start with it.
	Prefix string
	// Endpoint is an S3-compatible server's URL; AWS_ENDPOINT_URL (read by
	// the SDK) is the fallback. With either, requests use path-style
	// addressing.
	Endpoint string
	// Region overrides the SDK's configuration; when neither has one,
	// us-east-1 is used.
	Region string
	// Credentials, when set, replace the SDK's default chain.
	Credentials *Credentials
	// Logger receives the few failures the store handles itself (an abort
	// of a failed multipart upload). Nil discards.
	Logger *slog.Logger

	// Put uses one PutObject up to MultipartThreshold bytes and a multipart
	// upload of PartSize parts, Concurrency at a time, above it.
	MultipartThreshold int64
	PartSize           int64
	Concurrency        int
	// MaxAttempts caps the SDK's attempts per request (retries included),
	// so a dead endpoint fails in seconds. DialTimeout caps each connect.
	MaxAttempts int
	DialTimeout time.Duration
	// IdleTimeout fails a request, or a read of a response body, that has
	// seen no bytes move in either direction for this long: the server "is
	// not responding" (store.ErrUnreachable wrapping a
	// netdeadline.IdleError). Such a failure is not retried. Zero means
	// DATOMFS_NET_IDLE_TIMEOUT when set, else DefaultIdleTimeout (see
	// internal/netdeadline).
	IdleTimeout time.Duration
}

// S3 stores objects in one bucket.
type S3 struct {
	client   *s3.Client
	bucket   string
	prefix   string
	endpoint string // for messages, through redact.URL
	log      *slog.Logger

	threshold   int64
	partSize    int64
	concurrency int
}

// New configures a client for the bucket. It does not talk to the server;
// call Check for that.
func New(ctx context.Context, opts Options) (*S3, error) {
	if opts.Bucket == "" {
		return nil, fmt.Errorf("s3 store: %w: no bucket", store.ErrBadLocation)
	}
	s := &S3{
		bucket:      opts.Bucket,
		prefix:      opts.Prefix,
		log:         opts.Logger,
		threshold:   opts.MultipartThreshold,
		partSize:    opts.PartSize,
		concurrency: opts.Concurrency,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.threshold <= 0 {
		s.threshold = DefaultMultipartThreshold
	}
	if s.partSize <= 0 {
		s.partSize = DefaultPartSize
	}
	if s.partSize < MinPartSize {
		return nil, fmt.Errorf("s3 store: part size %d is below S3's minimum %d", s.partSize, MinPartSize)
	}
	if s.concurrency <= 0 {
		s.concurrency = DefaultConcurrency
	}
	attempts := opts.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	// Zero or negative: the defaults.
	timeouts, err := netdeadline.Timeouts{Dial: max(opts.DialTimeout, 0), Idle: max(opts.IdleTimeout, 0)}.Resolve()
	if err != nil {
		return nil, fmt.Errorf("s3 store %s: %w", s.Location(), err)
	}

	load := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = 2 * time.Second
				// No client-side retry quota: a long-running mount must not
				// stop retrying for good after a bad minute.
				o.RateLimiter = ratelimit.None
				// A server that stopped answering is not asked again: each
				// attempt would wait the idle timeout. First in the chain,
				// because the SDK calls every connection error retryable.
				o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(notRespondingIsFinal)}, o.Retryables...)
			})
		}),
		// Configured below, once the configuration has added its own
		// settings (a custom CA bundle) to it.
		config.WithHTTPClient(awshttp.NewBuildableClient()),
		// We send our own SHA-256 checksums; ranged GETs cannot be checked
		// against whole-object checksums (the cache verifies parquet_sha).
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	if c := opts.Credentials; c != nil {
		creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Source: "datomfs options"}
		load = append(load, config.WithCredentialsProvider(aws.CredentialsProviderFunc(
			func(context.Context) (aws.Credentials, error) { return creds, nil })))
	}
	// The SDK's own log lines (credential fallbacks, retries) go to our
	// log at debug level, not to the user's terminal.
	load = append(load, config.WithLogger(sdkLogger{s.log}))
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("s3 store %s: load AWS configuration: %w", s.Location(), err)
	}
	// A failure to find credentials is told apart from the server's
	// answers (ErrNoCredentials, with its own hint).
	if cfg.Credentials != nil {
		cfg.Credentials = credentialsProvider{cfg.Credentials}
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	// Every connection gets the connect and idle timeouts. The client is
	// frozen: the S3 client would otherwise rebuild the dialer of a
	// BuildableClient (WithDialerOptions), dropping our DialContext.
	b, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return nil, fmt.Errorf("s3 store %s: unexpected HTTP client %T after loading the AWS configuration", s.Location(), cfg.HTTPClient)
	}
	cfg.HTTPClient = b.WithTransportOptions(func(tr *http.Transport) { netdeadline.Configure(tr, timeouts) }).Freeze()
	s.client = s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		// S3-compatible servers rarely have wildcard DNS for buckets.
		o.UsePathStyle = o.BaseEndpoint != nil
		if o.BaseEndpoint != nil {
			s.endpoint = redact.URL(*o.BaseEndpoint)
		}
	})
	return s, nil
}

// sdkLogger writes the SDK's log lines to the store's log at debug level.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(class logging.Classification, format string, v ...any) {
	l.log.Debug("aws sdk: "+fmt.Sprintf(format, v...), "class", string(class))
}

// credentialsProvider marks the credential chain's failures.
type credentialsProvider struct{ aws.CredentialsProvider }

func (c credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return creds, &credentialsError{err}
	}
	return creds, nil
}

type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// notRespondingIsFinal tells the SDK's retryer not to retry an idle
// timeout, and leaves every other error to the SDK's own checks.
func notRespondingIsFinal(err error) aws.Ternary {
	if errors.Is(err, netdeadline.ErrNotResponding) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// Location is "s3://bucket/prefix".
func (s *S3) Location() string {
	return store.Location{Type: store.TypeS3, Root: s.bucket, Prefix: s.prefix}.String()
}

// Bucket is the bucket name.
func (s *S3) Bucket() string { return s.bucket }

func (s *S3) objectURL(key string) string { return "s3://" + s.bucket + "/" + key }

// Check verifies that the endpoint answers and the bucket exists.
func (s *S3) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		return nil
	}
	if isCode(err, 404, "NotFound", "NoSuchBucket") {
		return fmt.Errorf("check %s: bucket %q does not exist: %w", s.Location(), s.bucket, store.ErrUnreachable)
	}
	return s.mapErr(ctx, "check", "s3://"+s.bucket, err)
}

// Stat is a HeadObject.
func (s *S3) Stat(ctx context.Context, key string) (store.Info, error) {
	if err := store.ValidateKey(key); err != nil {
		return store.Info{}, fmt.Errorf("stat: %w", err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return store.Info{}, s.mapErr(ctx, "stat", s.objectURL(key), err)
	}
	return store.Info{
		Key:     key,
		Size:    aws.ToInt64(out.ContentLength),
		ModTime: aws.ToTime(out.LastModified),
		ETag:    strings.Trim(aws.ToString(out.ETag), `"`),
	}, nil
}

// Open is a ranged GetObject (see store.Store). A zero length costs a
// HeadObject so that a missing key still fails.
func (s *S3) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := store.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	if offset < 0 {
		return nil, fmt.Errorf("open %s: negative offset %d", s.objectURL(key), offset)
	}
	if length == 0 {
		if _, err := s.Stat(ctx, key); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	switch {
	case length > 0 && offset+length > offset: // no overflow
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
	case offset > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if isCode(err, 416, "InvalidRange") {
			// The object exists (else NoSuchKey) and the range starts at or
			// past its end.
			return io.NopCloser(bytes.NewReader(nil)), nil
		}
		return nil, s.mapErr(ctx, "open", s.objectURL(key), err)
	}
	return &body{ctx: ctx, rc: out.Body, s: s, what: s.objectURL(key)}, nil
}

// body is a GetObject response body whose failures carry the store's
// sentinels, as the store's calls do.
type body struct {
	ctx  context.Context
	rc   io.ReadCloser
	s    *S3
	what string
}

func (b *body) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = b.s.mapErr(b.ctx, "read", b.what, err)
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

// Put uploads size bytes from r (see store.Store): one PutObject with a
// SHA-256 checksum up to the multipart threshold, a multipart upload with
// per-part checksums above it. An incomplete multipart upload is aborted,
// so no partial object is ever visible.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) error {
	if err := store.ValidateKey(key); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	what := s.objectURL(key)
	if size < 0 {
		return fmt.Errorf("put %s: negative size %d", what, size)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", what, err)
	}
	if size > s.threshold {
		return s.putMultipart(ctx, key, r, size, opts)
	}
	body, sum, err := readBody(ctx, r, size, opts.SHA256)
	if err != nil {
		return fmt.Errorf("put %s: %w", what, err)
	}
	in := &s3.PutObjectInput{
		Bucket:         aws.String(s.bucket),
		Key:            aws.String(key),
		Body:           body,
		ContentLength:  aws.Int64(size),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
	}
	if opts.ContentType != "" {
		in.ContentType = aws.String(opts.ContentType)
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return s.mapErr(ctx, "put", what, err)
	}
	if opts.Progress != nil {
		opts.Progress(size, size)
	}
	return nil
}

// readBody returns exactly size bytes of r as a seekable body, and their
// SHA-256 (known, when the caller gave it). Files (io.ReaderAt +
// io.Seeker) are read in place from their current offset, and not at all
// when the SHA-256 is known; other readers are buffered in memory.
func readBody(ctx context.Context, r io.Reader, size int64, known []byte) (io.ReadSeeker, []byte, error) {
	h := sha256.New()
	if ra, ok := r.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		pos, err := ra.Seek(0, io.SeekCurrent)
		if err == nil {
			sr := io.NewSectionReader(ra, pos, size)
			if len(known) == sha256.Size {
				// The server checks the bytes against it; only the size
				// is ours to check.
				if end, err := ra.Seek(0, io.SeekEnd); err == nil && end-pos != size {
					if end-pos < size {
						return nil, nil, fmt.Errorf("%w: input ended after %d of %d bytes", store.ErrSizeMismatch, end-pos, size)
					}
					return nil, nil, fmt.Errorf("%w: input has more than %d bytes", store.ErrSizeMismatch, size)
				}
				return sr, known, nil
			}
			n, err := io.Copy(h, store.ContextReader(ctx, sr))
			if err != nil {
				return nil, nil, fmt.Errorf("read input: %w", err)
			}
			if n != size {
				return nil, nil, fmt.Errorf("%w: input ended after %d of %d bytes", store.ErrSizeMismatch, n, size)
			}
			if k, _ := ra.ReadAt(make([]byte, 1), pos+size); k > 0 {
				return nil, nil, fmt.Errorf("%w: input has more than %d bytes", store.ErrSizeMismatch, size)
			}
			if _, err := sr.Seek(0, io.SeekStart); err != nil {
				return nil, nil, fmt.Errorf("rewind input: %w", err)
			}
			return sr, h.Sum(nil), nil
		}
	}
	buf := make([]byte, size)
	if err := readFull(ctx, r, buf); err != nil {
		return nil, nil, err
	}
	if len(known) == sha256.Size {
		return bytes.NewReader(buf), known, nil
	}
	h.Write(buf)
	return bytes.NewReader(buf), h.Sum(nil), nil
}

// readFull fills buf from r, failing with ErrSizeMismatch if r ends early.
func readFull(ctx context.Context, r io.Reader, buf []byte) error {
	n, err := io.ReadFull(store.ContextReader(ctx, r), buf)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: input ended early (%d bytes short)", store.ErrSizeMismatch, len(buf)-n)
		}
		return fmt.Errorf("read input: %w", err)
	}
	return nil
}

// expectEOF fails with ErrSizeMismatch if r has more bytes.
func expectEOF(r io.Reader, size int64) error {
	var one [1]byte
	if k, _ := io.ReadFull(r, one[:]); k > 0 {
		return fmt.Errorf("%w: input has more than %d bytes", store.ErrSizeMismatch, size)
	}
	return nil
}

func (s *S3) putMultipart(ctx context.Context, key string, r io.Reader, size int64, opts store.PutOptions) (err error) {
	what := s.objectURL(key)
	// Parts carry CRC32C checksums (hardware-fast, checked by the server
	// per part): a SHA-256 per part would hash every byte a second time
	// after staging already did (the version's parquet_sha is checked when
	// the object is read).
	create := &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	}
	if opts.ContentType != "" {
		create.ContentType = aws.String(opts.ContentType)
	}
	up, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		return s.mapErr(ctx, "put", what, err)
	}
	uploadID := up.UploadId
	defer func() {
		if err == nil {
			return
		}
		// Abort even when ctx is cancelled, so no parts linger.
		limit := abortTimeout
		if errors.Is(err, store.ErrUnreachable) {
			limit = abortUnreachableTimeout
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
		defer cancel()
		if _, aerr := s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: uploadID,
		}); aerr != nil {
			s.log.Warn("abort multipart upload", "object", what, "err", aerr)
		}
	}()

	nparts := int((size + s.partSize - 1) / s.partSize)
	parts := make([]types.CompletedPart, nparts)
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	type job struct {
		n   int32
		buf []byte
	}
	jobs := make(chan job)
	free := make(chan []byte, s.concurrency+1)
	for range s.concurrency + 1 {
		free <- make([]byte, s.partSize)
	}
	var (
		mu   sync.Mutex
		done int64
		wg   sync.WaitGroup
	)
	for range s.concurrency {
		wg.Go(func() {
			for j := range jobs {
				cs := crc32cBase64(j.buf)
				out, err := s.client.UploadPart(wctx, &s3.UploadPartInput{
					Bucket:            aws.String(s.bucket),
					Key:               aws.String(key),
					UploadId:          uploadID,
					PartNumber:        aws.Int32(j.n),
					Body:              bytes.NewReader(j.buf),
					ContentLength:     aws.Int64(int64(len(j.buf))),
					ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
					ChecksumCRC32C:    aws.String(cs),
				})
				if err != nil {
					cancel(s.mapErr(wctx, fmt.Sprintf("put part %d of", j.n), what, err))
				} else {
					parts[j.n-1] = types.CompletedPart{PartNumber: aws.Int32(j.n), ETag: out.ETag, ChecksumCRC32C: aws.String(cs)}
					mu.Lock()
					done += int64(len(j.buf))
					if opts.Progress != nil {
						opts.Progress(done, size)
					}
					mu.Unlock()
				}
				free <- j.buf[:cap(j.buf)]
			}
		})
	}
	var readErr error
	for i := range nparts {
		var buf []byte
		select {
		case buf = <-free:
		case <-wctx.Done():
		}
		if buf == nil {
			break
		}
		buf = buf[:min(s.partSize, size-int64(i)*s.partSize)]
		if readErr = readFull(wctx, r, buf); readErr != nil {
			break
		}
		jobs <- job{n: int32(i + 1), buf: buf}
	}
	close(jobs)
	wg.Wait()
	if cause := context.Cause(wctx); cause != nil && wctx.Err() != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("put %s: %w", what, ctx.Err())
		}
		return cause
	}
	if readErr != nil {
		return fmt.Errorf("put %s: %w", what, readErr)
	}
	if err := expectEOF(r, size); err != nil {
		return fmt.Errorf("put %s: %w", what, err)
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(key),
		UploadId:        uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return s.mapErr(ctx, "complete upload of", what, err)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32cBase64 is S3's x-amz-checksum-crc32c of b: the big-endian CRC32C,
// base64.
func crc32cBase64(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.Checksum(b, castagnoli))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// List pages through ListObjectsV2.
func (s *S3) List(ctx context.Context, prefix string) ([]store.Info, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	var out []store.Info
	p := s3.NewListObjectsV2Paginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.mapErr(ctx, "list", "s3://"+s.bucket+"/"+prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, store.Info{
				Key:     aws.ToString(o.Key),
				Size:    aws.ToInt64(o.Size),
				ModTime: aws.ToTime(o.LastModified),
				ETag:    strings.Trim(aws.ToString(o.ETag), `"`),
			})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

var _ store.UploadSweeper = (*S3)(nil)

// StaleUploads pages through ListMultipartUploads under prefix and returns
// the keys of the uploads started more than olderThan ago; with abort it
// aborts each (one already gone is not an error).
func (s *S3) StaleUploads(ctx context.Context, prefix string, olderThan time.Duration, abort bool) ([]string, error) {
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	cutoff := time.Now().Add(-olderThan)
	var out []string
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return out, s.mapErr(ctx, "list uploads", "s3://"+s.bucket+"/"+prefix, err)
		}
		for _, u := range page.Uploads {
			if u.Initiated == nil || !u.Initiated.Before(cutoff) {
				continue // maybe a live writer's
			}
			key := aws.ToString(u.Key)
			if abort {
				_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: u.Key, UploadId: u.UploadId})
				if err != nil && !isCode(err, 404, "NoSuchUpload") {
					return out, s.mapErr(ctx, "abort upload", s.objectURL(key), err)
				}
			}
			out = append(out, key)
		}
		if !aws.ToBool(page.IsTruncated) {
			return out, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

// Remove is a DeleteObject; a missing key is not an error.
func (s *S3) Remove(ctx context.Context, key string) error {
	if err := store.ValidateKey(key); err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil && (isCode(err, 0, "NoSuchBucket") || !isCode(err, 404, "NoSuchKey", "NotFound")) {
		return s.mapErr(ctx, "remove", s.objectURL(key), err)
	}
	return nil
}

// isCode reports whether err is an S3 error with one of codes, or an HTTP
// response with the given status (HEAD responses carry no code); status 0
// checks only the codes.
func isCode(err error, status int, codes ...string) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		for _, c := range codes {
			if ae.ErrorCode() == c {
				return true
			}
		}
	}
	var re *awshttp.ResponseError
	return status != 0 && errors.As(err, &re) && re.HTTPStatusCode() == status
}

// permissionCodes are S3 error codes meaning "you may not": permanent.
var permissionCodes = []string{
	"AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
	"ExpiredToken", "InvalidToken", "AccountProblem", "InvalidSecurity", "RequestTimeTooSkewed",
}

// mapErr wraps an SDK error with the action and object and the store
// sentinel it means.
func (s *S3) mapErr(ctx context.Context, op, what string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(err, ctxErr) {
			return fmt.Errorf("%s %s: %w", op, what, ctxErr)
		}
		return fmt.Errorf("%s %s: %w (%w)", op, what, ctxErr, err)
	}
	switch {
	case isCode(err, 0, "NoSuchBucket"): // before the 404 test: same status
		return fmt.Errorf("%s %s: bucket %q does not exist: %w", op, what, s.bucket, store.ErrUnreachable)
	case isCode(err, 404, "NoSuchKey", "NotFound"):
		return fmt.Errorf("%s %s: %w", op, what, store.ErrNotFound)
	case isCode(err, 403, permissionCodes...):
		return fmt.Errorf("%s %s: %w: %w", op, what, store.ErrPermission, err)
	case isCode(err, 507, "QuotaExceeded", "StorageFull", "InsufficientStorage"):
		return fmt.Errorf("%s %s: %w: %w", op, what, store.ErrNoSpace, err)
	}
	var ce *credentialsError
	if errors.As(err, &ce) {
		// The chain's message goes on about the last source it tried
		// (the EC2 metadata service); its first reason is enough.
		why := strings.TrimPrefix(ce.err.Error(), "failed to refresh cached credentials, ")
		why, _, _ = strings.Cut(why, ", operation error")
		return fmt.Errorf("%s %s: %w (%s)", op, what, store.ErrNoCredentials, why)
	}
	if ie, ok := netdeadline.AsIdle(err); ok {
		// One line: the SDK's wrapping adds nothing here.
		return fmt.Errorf("%s %s: %w (endpoint %s): %w", op, what, store.ErrUnreachable, s.where(), ie)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("%s %s: %w (endpoint %s): %w", op, what, store.ErrUnreachable, s.where(), err)
	}
	return fmt.Errorf("%s %s: %w", op, what, err)
}

// where names the endpoint for messages, without credentials.
func (s *S3) where() string {
	if s.endpoint == "" {
		return "AWS S3"
	}
	return s.endpoint
}
