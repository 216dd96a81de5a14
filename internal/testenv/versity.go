package testenv

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// VersityHint is what a test says when versitygw is missing.
const VersityHint = "versitygw not found in PATH or $(go env GOPATH)/bin: run scripts/install-tools.sh"

// S3Server is a Versity S3 gateway (posix backend) serving on loopback for
// one test, with random root credentials.
type S3Server struct {
	Endpoint  string // "http://127.0.0.1:PORT"
	AccessKey string
	SecretKey string
	Region    string // "us-east-1"
	Dir       string // the posix root: one directory per bucket
	LogFile   string // the gateway's stdout and stderr

	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has been waited for
}

// Versity starts versitygw on a free loopback port, waits until it answers
// signed requests and stops it when the test ends. A missing binary fails
// the test with an install hint. The gateway's log is kept under
// t.TempDir(); its tail is printed when the test fails.
func Versity(t testing.TB) *S3Server {
	t.Helper()
	bin, err := versityBinary()
	if err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for range 3 { // a port picked free may be taken before the gateway binds it
		s, err := startVersity(t, bin)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("start versitygw: %v", lastErr)
	return nil
}

// versityBinary finds versitygw in PATH, $GOBIN or $GOPATH/bin.
func versityBinary() (string, error) {
	return versityFind(os.Getenv("PATH"), os.Getenv("GOBIN"), build.Default.GOPATH)
}

func versityFind(path, gobin, gopath string) (string, error) {
	dirs := filepath.SplitList(path)
	if gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(gopath) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New(VersityHint)
}

func versityRandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

func versityFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startVersity(t testing.TB, bin string) (*S3Server, error) {
	t.Helper()
	base := t.TempDir()
	s := &S3Server{
		AccessKey: "AK" + strings.ToUpper(versityRandomHex(9)),
		SecretKey: versityRandomHex(20),
		Region:    "us-east-1",
		Dir:       filepath.Join(base, "root"),
		LogFile:   filepath.Join(base, "versitygw.log"),
		exited:    make(chan struct{}),
	}
	if err := os.Mkdir(s.Dir, 0o755); err != nil {
		return nil, err
	}
	port, err := versityFreePort()
	if err != nil {
		return nil, fmt.Errorf("pick a port: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s.Endpoint = "http://" + addr

	logf, err := os.Create(s.LogFile)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	// Credentials go through the environment, never argv.
	cmd := exec.Command(bin, "--port", addr, "--region", s.Region, "posix", s.Dir)
	cmd.Env = append(versityCleanEnv(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	s.cmd = cmd
	go func() { cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("versitygw log %s (tail):\n%s", s.LogFile, s.LogTail(40))
		}
	})

	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("versitygw exited during start-up (%v); log tail:\n%s", cmd.ProcessState, s.LogTail(20))
		default:
		}
		resp, err := s.do(http.MethodGet, "/", nil)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
			err = fmt.Errorf("signed ListBuckets: %s: %s", resp.Status, body)
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("versitygw on %s did not answer within 30s: %w; log tail:\n%s", addr, err, s.LogTail(20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// versityCleanEnv is the test's environment less variables that would
// reconfigure the gateway.
func versityCleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VGW_") || strings.HasPrefix(kv, "ROOT_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (s *S3Server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// LogTail returns the last n lines of the gateway's log.
func (s *S3Server) LogTail(n int) string {
	b, err := os.ReadFile(s.LogFile)
	if err != nil {
		return fmt.Sprintf("(read log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Env is the environment for a subprocess (the CLI binary) that should talk
// to this server through the AWS SDK's default chain.
func (s *S3Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_ENDPOINT_URL=" + s.Endpoint,
		"AWS_REGION=" + s.Region,
	}
}

// SetEnv points the AWS SDK of this test process at the server (for tests
// that open S3 stores in-process); t.Setenv restores the environment.
func (s *S3Server) SetEnv(t testing.TB) {
	t.Helper()
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// CreateBucket creates a bucket through the S3 API; failure fails the test.
func (s *S3Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	resp, err := s.do(http.MethodPut, "/"+name, nil)
	if err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket %s: %s: %s", name, resp.Status, body)
	}
}

// do sends one request signed with AWS Signature Version 4.
func (s *S3Server) do(method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(method, s.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	versitySign(req, body, s.AccessKey, s.SecretKey, s.Region, time.Now().UTC())
	client := &http.Client{Timeout: 10 * time.Second}
	return client.Do(req)
}

// versitySign adds SigV4 headers for service s3 to a request without a
// query string.
func versitySign(req *http.Request, body []byte, accessKey, secretKey, region string, now time.Time) {
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	payload := sha256.Sum256(body)
	payloadHex := hex.EncodeToString(payload[:])
	req.Header.Set("x-amz-date", amzDate)
	req.Header.Set("x-amz-content-sha256", payloadHex)

	const signed = "host;x-amz-content-sha256;x-amz-date"
	canonical := strings.Join([]string{
		req.Method,
		req.URL.EscapedPath(),
		"",
		"host:" + req.URL.Host + "\n" +
			"x-amz-content-sha256:" + payloadHex + "\n" +
			"x-amz-date:" + amzDate + "\n",
		signed,
		payloadHex,
	}, "\n")
	scope := day + "/" + region + "/s3/aws4_request"
	crHash := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])

	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+secretKey), day)
	k = mac(k, region)
	k = mac(k, "s3")
	k = mac(k, "aws4_request")
	sig := hex.EncodeToString(mac(k, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+accessKey+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}
