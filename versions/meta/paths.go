package meta

// Where the documents live in a project's git repository (contract 2.1):
// paths relative to the clone root, "/"-separated (git's form; join them
// to a folder with filepath.FromSlash). The store keeps mirrors of some
// under the same file names (store.Layout, contract 3.2). Spell these
// names nowhere else.
const (
	// DatomDir is the project folder of the repository.
	DatomDir = ".datom"
	// MetadataFile is the name of a table's current metadata (2.4).
	MetadataFile = "metadata.json"
	// HistoryFile is the name of a table's version history (2.5).
	HistoryFile = "version_history.json"
	// ManifestFile is the name of the project catalogue (2.3).
	ManifestFile = "manifest.json"
	// GovernanceFile is the name of the governance attachment (2.7).
	GovernanceFile = "governance.json"
	// ProjectConfigFile is the name of the project configuration (2.2).
	ProjectConfigFile = "project.yaml"

	// ManifestPath is .datom/manifest.json.
	ManifestPath = DatomDir + "/" + ManifestFile
	// GovernancePath is .datom/governance.json.
	GovernancePath = DatomDir + "/" + GovernanceFile
	// ProjectConfigPath is .datom/project.yaml.
	ProjectConfigPath = DatomDir + "/" + ProjectConfigFile
)

// MetadataPath is <table>/metadata.json.
func MetadataPath(t TableName) string { return t.s + "/" + MetadataFile }

// HistoryPath is <table>/version_history.json.
func HistoryPath(t TableName) string { return t.s + "/" + HistoryFile }
