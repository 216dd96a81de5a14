package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/datomfs/datomfs/internal/rds"
)

func main() {
	if p := os.Getenv("CPUPROF"); p != "" {
		f, _ := os.Create(p)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := (rds.Converter{}).ParquetToRDS(context.Background(), os.Args[1], os.Args[2]); err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
}
