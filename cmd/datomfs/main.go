// Command datomfs shares versioned study tables in datom's format: a CLI, a
// FUSE mount and an embedded SQL engine over one project.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], System())) }
