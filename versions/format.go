package versions

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is what the bytes of a file to write are. Write takes it in the
// request instead of reading it from the file's name, so a file needs no
// particular name: the CLI and Sync take it from the extension of the
// file they were given (InputFormat, FormatOf), the mount from the name a
// file was written under.
type Format string

// The input formats. Delimited text has a header row and is converted to
// parquet by the Converter (DuckDB), which detects the column types.
const (
	FormatParquet Format = "parquet"
	FormatCSV     Format = "csv" // fields separated by ','
	FormatTSV     Format = "tsv" // by a tab
	FormatPSV     Format = "psv" // by '|'
	FormatTXT     Format = "txt" // by the header line's most frequent of , tab | ;
)

// inputFormats is the one list of accepted inputs: Write, Sync, the CLI
// (write, sync, hash) and the mount (the files it publishes) all take it
// from here. delim is the field delimiter of delimited text, 0 when the
// header line decides (txt).
var inputFormats = []inputFormat{
	{FormatParquet, false, 0},
	{FormatCSV, true, ','},
	{FormatTSV, true, '\t'},
	{FormatPSV, true, '|'},
	{FormatTXT, true, 0},
}

type inputFormat struct {
	format    Format
	delimited bool
	delim     byte
}

// lookup finds f in the list.
func (f Format) lookup() (inputFormat, bool) {
	for _, x := range inputFormats {
		if x.format == f {
			return x, true
		}
	}
	return inputFormat{}, false
}

// Formats lists the accepted input formats.
func Formats() []Format {
	out := make([]Format, len(inputFormats))
	for i, f := range inputFormats {
		out[i] = f.format
	}
	return out
}

// FormatOf is the input format a file name's extension names, in any case
// ("LB.CSV" is FormatCSV), and whether it names one.
func FormatOf(name string) (Format, bool) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	for _, f := range inputFormats {
		if string(f.format) == ext {
			return f.format, true
		}
	}
	return "", false
}

// InputFormat is FormatOf for a file given by a person (a CLI argument),
// refusing a name without a supported extension with ErrInvalidInput.
func InputFormat(path string) (Format, error) {
	if f, ok := FormatOf(path); ok {
		return f, nil
	}
	return "", fmt.Errorf("%s: %w: unsupported file type %q (use %s)", path, ErrInvalidInput, filepath.Ext(path), ExtensionList("or"))
}

// ExtensionList is the accepted extensions for a message: ".parquet,
// .csv, .tsv, .psv or .txt" (conj "or"; "and" for lists of what is
// allowed).
func ExtensionList(conj string) string {
	exts := make([]string, len(inputFormats))
	for i, f := range inputFormats {
		exts[i] = f.format.Ext()
	}
	return strings.Join(exts[:len(exts)-1], ", ") + " " + conj + " " + exts[len(exts)-1]
}

// Ext is the format's file extension: ".csv".
func (f Format) Ext() string { return "." + string(f) }

// Delimited reports whether f is delimited text, which Write converts to
// parquet with the Converter.
func (f Format) Delimited() bool {
	x, _ := f.lookup()
	return x.delimited
}

// Delimiter is the field delimiter of delimited text, or 0 when the
// header line decides (FormatTXT) and for parquet.
func (f Format) Delimiter() byte {
	x, _ := f.lookup()
	return x.delim
}
