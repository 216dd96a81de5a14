// Package rds renders a parquet file as an .rds file: R's serialization
// format (version 3, XDR, gzip-compressed as saveRDS writes it by default)
// of the data.frame that arrow's read_parquet would give R, so that base R
// reads it with readRDS() and no arrow package.
//
// Columns get the R types of the format contract's Arrow → R table (5.1):
// logical, integer, double, character, factor (levels in dictionary
// order), Date, POSIXct (with the Arrow time zone as "tzone"), hms and
// difftime in seconds, and integer64 (a double vector holding the int64
// bits, class "integer64", as bit64 stores it). A column R's arrow would
// not give as a plain vector (binary, lists, structs, float16, ...) makes
// the whole rendition fail with an *UnsupportedError naming it: never a
// file with a column of another type.
//
// The file is built in bounded memory: R's format is column-major, so each
// column is read in batches across the row groups and streamed into the
// compressor; only a factor's levels are held until the column ends.
package rds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrUnsupported: a column cannot be given to R as arrow would give it
// (wrapped by *UnsupportedError).
var ErrUnsupported = errors.New("no R type for this column")

// Refusal is one column the rendition cannot hold.
type Refusal struct {
	Column string
	Type   string // the column's Arrow type
	Reason string
}

// UnsupportedError lists the columns that keep a table from being
// rendered; it wraps ErrUnsupported. Its message is one line.
type UnsupportedError struct {
	Refusals []Refusal
}

func (e *UnsupportedError) Error() string {
	parts := make([]string, len(e.Refusals))
	for i, r := range e.Refusals {
		parts[i] = fmt.Sprintf("column %q (%s): %s", r.Column, r.Type, r.Reason)
	}
	return "no .rds rendition: " + strings.Join(parts, "; ")
}

func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// Options tune a conversion. The zero value is ready to use.
type Options struct {
	// BatchRows is how many rows of a column are decoded at a time
	// (default 64Ki): it bounds the memory a conversion uses.
	BatchRows int64
}

// Converter renders parquet files as .rds files.
type Converter struct{ Options Options }

// ParquetToRDS writes the .rds rendition of the parquet file at
// parquetPath to rdsPath, through a temporary file next to it: rdsPath
// holds a complete rendition or does not exist.
func (c Converter) ParquetToRDS(ctx context.Context, parquetPath, rdsPath string) (err error) {
	in, err := os.Open(parquetPath)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := fmt.Sprintf("%s.tmp-%d", rdsPath, time.Now().UnixNano())
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	if err = Write(ctx, in, out, c.Options); err != nil {
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, rdsPath)
}
