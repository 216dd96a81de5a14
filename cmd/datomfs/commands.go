package main

import "github.com/spf13/cobra"

// commands lists every verb.
func commands(f *factory) []*cobra.Command {
	return []*cobra.Command{
		newInitCmd(f, nil),
		newCloneCmd(f, nil),
		newListCmd(f, nil),
		newHistoryCmd(f, nil),
		newReadCmd(f, nil),
		newWriteCmd(f, nil),
		newPullCmd(f, nil),
		newSyncCmd(f, nil),
		newStatusCmd(f, nil),
		newValidateCmd(f, nil),
		newHashCmd(f, nil),
		newProjectsCmd(f, nil),
		newQueryCmd(f, nil),
		newDiffCmd(f, nil),
		newTagCmd(f, nil),
		newTagsCmd(f, nil),
		newMountCmd(f, nil),
		newIcebergCmd(f, nil, nil),
		newServeCmd(f, nil),
		newVersionCmd(f, nil),
		newManCmd(f),
	}
}
