package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/datomfs/datomfs/iceberg"
	"github.com/datomfs/datomfs/versions"
)

func newServeCmd(f *factory, runF func(context.Context, *serveRESTOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve <service>",
		Short: "Serve the project to other programs",
		Long: `Serve the project to other programs. Services:

  iceberg-rest   a read-only Apache Iceberg REST catalog of the tables`,
		Example: `  datomfs serve iceberg-rest -C ~/study001`,
		Args:    namedArgs(1, "SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usagef("unknown service %q (want iceberg-rest)", args[0])
		},
	}
	cmd.AddCommand(newServeRESTCmd(f, runF))
	return cmd
}

type serveRESTOptions struct {
	IO      *IOStreams
	Project func(context.Context) (*versions.Project, error)
	Addr    string
	Ready   func(addr string) // tests: called once listening
}

func newServeRESTCmd(f *factory, runF func(context.Context, *serveRESTOptions) error) *cobra.Command {
	pf := &projectFlags{}
	opts := &serveRESTOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "iceberg-rest",
		Short: "Serve a read-only Iceberg REST catalog of the project's tables",
		Long: `Serve the read side of the Apache Iceberg REST catalog API over the
project's Iceberg metadata (see "datomfs iceberg"): namespace "iceberg", one
table per datom table. Engines that want a catalog (Spark, Trino, pyiceberg,
DuckDB) connect to it without Glue or a Hive metastore; they read the data
files with their own store credentials. Requests that would change the
catalog are refused. It has no authentication of its own: it listens on
loopback unless --addr says otherwise (the metadata names every data file,
author and message); it stops on SIGINT or SIGTERM.`,
		Example: `  datomfs serve iceberg-rest -C ~/study001
  datomfs serve iceberg-rest --addr 127.0.0.1:9181 --store s3://acme-data/study001
  # pyiceberg: load_catalog("datom", type="rest", uri="http://127.0.0.1:8181").load_table("iceberg.lb")`,
		Args: namedArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, _, err := net.SplitHostPort(opts.Addr); err != nil {
				return usagef("--addr %q: want HOST:PORT", opts.Addr)
			}
			opts.Project = f.loader(pf, false)
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRESTRun(cmd.Context(), f, opts)
		},
	}
	pf.register(cmd, true)
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:8181", "address to listen on (HOST:PORT)")
	return cmd
}

func serveRESTRun(ctx context.Context, f *factory, opts *serveRESTOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p, err := opts.Project(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.Addr, err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: iceberg.RESTHandler(p, f.Logger), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	fmt.Fprintf(opts.IO.ErrOut, "Iceberg REST catalog of %s on http://%s (namespace %q); Ctrl-C stops it\n", p.Name(), addr, iceberg.Namespace)
	if opts.Ready != nil {
		opts.Ready(addr)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
