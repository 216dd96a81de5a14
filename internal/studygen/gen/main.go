// Command gen writes a synthetic study extract (dm, ex, lb, ae):
//
//	go run ./internal/studygen/gen -out extracts/2026-01 -cutoff 2026-01-31
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/datomfs/datomfs/internal/studygen"
)

func main() {
	out := flag.String("out", "extract", "output folder")
	format := flag.String("format", "parquet", "parquet or csv")
	cutoff := flag.String("cutoff", "2026-01-31", "data cut-off date (YYYY-MM-DD)")
	subjects := flag.Int("subjects", 20, "number of subjects")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	c, err := time.Parse("2006-01-02", *cutoff)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen: -cutoff %q: want YYYY-MM-DD\n", *cutoff)
		os.Exit(2)
	}
	paths, err := studygen.Write(*out, *format, studygen.Options{Subjects: *subjects, Cutoff: c, Seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(paths))
	for n := range paths {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Println(paths[n])
	}
}
