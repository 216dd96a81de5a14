package meta

import (
	"strings"
)

// defaultGitignoreLines are the first 19 lines of datom's .gitignore
// (contract 2.6); a caller may replace them.
var defaultGitignoreLines = []string{
	".Rprofile", ".Renviron", ".Rhistory", ".Rapp.history", ".Rproj.user/", ".DS_Store",
	"*.csv", "*.tsv", "*.rds", "*.txt", "*.parquet", "*.sas7bdat", ".RData", ".RDataTmp",
	"*.html", "*.png", "*.pdf", ".vscode/", "rsconnect/",
}

// InputFilesDir is the flat source-file drop folder, never committed.
const InputFilesDir = "input_files"

// Gitignore returns the .gitignore written at init: the given lines (the
// datom defaults when none are given) followed once by "input_files/",
// each line ending "\n".
func Gitignore(lines ...string) []byte {
	if len(lines) == 0 {
		lines = defaultGitignoreLines
	}
	var b strings.Builder
	for _, l := range lines {
		if l == InputFilesDir+"/" {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString(InputFilesDir + "/\n")
	return []byte(b.String())
}

// README returns an informational README.md for a new project (no reader
// parses it; contract 2.6 allows our own wording).
func README(c ProjectConfig) []byte {
	orNone := func(s, none string) string {
		if s == "" {
			return none
		}
		return s
	}
	region := "*(n/a)*"
	if c.Storage.Type == StorageS3 {
		region = orNone(c.Storage.Region, "*(n/a)*")
	}
	var b strings.Builder
	b.WriteString("# " + c.ProjectName.String() + "\n\n")
	b.WriteString("Versioned tables managed with datom (R) and datomfs.\n\n")
	b.WriteString("| setting | value |\n|---|---|\n")
	b.WriteString("| backend | " + c.Storage.Type + " |\n")
	b.WriteString("| root | " + c.Storage.Root + " |\n")
	b.WriteString("| prefix | " + orNone(c.Storage.Prefix, "*(none)*") + " |\n")
	b.WriteString("| region | " + region + " |\n")
	b.WriteString("| remote | " + orNone(c.RemoteURL, "*(none)*") + " |\n")
	b.WriteString("| created | " + c.CreatedAt + " |\n")
	b.WriteString("| datom version | " + c.DatomVersion + " |\n\n")
	b.WriteString("Each table lives in `<table>/metadata.json` and `<table>/version_history.json`;\n")
	b.WriteString("the data is stored by content hash in the data store, not in git.\n\n")
	b.WriteString("```sh\n")
	b.WriteString("datomfs list                    # tables and current versions\n")
	b.WriteString("datomfs history TABLE           # versions of one table\n")
	b.WriteString("datomfs read TABLE -o out.parquet\n")
	b.WriteString("```\n")
	return []byte(b.String())
}
