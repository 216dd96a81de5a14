package versions

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/datomfs/datomfs/internal/testenv"
)

// A multipart upload a killed writer left open in an S3 store is a
// problem validate reports (its parts are stored, and billed, out of
// sight); --fix aborts it. A younger one is taken for a live writer's.
func TestValidateAbandonedUploads(t *testing.T) {
	srv := testenv.Versity(t)
	srv.CreateBucket(t, "uploads")
	srv.SetEnv(t)
	ctx := context.Background()
	p, _ := pointsProject(t, "s3://uploads/study001")
	jan := extractFiles(t, "2026-01-31")
	if _, err := p.Write(ctx, WriteRequest{Table: tn("dm"), Path: jan["dm"], Format: FormatParquet}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cli := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	key := p.layout.ParquetKey(tn("dm"), "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if _, err := cli.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if rep, err := p.Validate(ctx, ValidateOptions{}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("a fresh upload (maybe a live writer's): %+v, %v; want no problem", rep.Problems, err)
	}
	old := staleUploadAge
	staleUploadAge = -time.Hour // every open upload counts as abandoned
	t.Cleanup(func() { staleUploadAge = old })
	rep, err := p.Validate(ctx, ValidateOptions{})
	if err != nil || len(rep.Problems) != 1 || rep.Problems[0].Key != key || !rep.Problems[0].Fixable || rep.Problems[0].Fixed {
		t.Fatalf("validate: %+v, %v; want the open upload of %s, fixable", rep.Problems, err, key)
	}
	rep, err = p.Validate(ctx, ValidateOptions{Fix: true})
	if err != nil || len(rep.Problems) != 1 || !rep.Problems[0].Fixed {
		t.Fatalf("validate --fix: %+v, %v", rep.Problems, err)
	}
	ups, err := cli.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads")})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads left after --fix: %d, %v", len(ups.Uploads), err)
	}
	if rep, err := p.Validate(ctx, ValidateOptions{}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("after --fix: %+v, %v", rep.Problems, err)
	}
}
