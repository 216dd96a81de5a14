package fs

import "testing"

func TestDatomfsMountAt(t *testing.T) {
	const info = `22 27 0:21 / /proc rw,relatime - proc proc rw
91 27 0:50 / /mnt/datom rw,nosuid,nodev,relatime shared:1 - fuse.datomfs datomfs:STUDY_001 rw,user_id=0,group_id=0
92 27 0:51 / /mnt/with\040space rw,relatime - fuse.datomfs datomfs:S2 rw
93 27 0:52 / /mnt/other rw,relatime - fuse.sshfs host:/x rw
`
	cases := []struct {
		dir, source string
		ok          bool
	}{
		{"/mnt/datom", "datomfs:STUDY_001", true},
		{"/mnt/with space", "datomfs:S2", true},
		{"/mnt/other", "", false}, // another FUSE file system: the kernel decides
		{"/mnt", "", false},
		{"/proc", "", false},
	}
	for _, c := range cases {
		source, ok := datomfsMountAt(info, c.dir)
		if source != c.source || ok != c.ok {
			t.Errorf("datomfsMountAt(%s) = %q, %v; want %q, %v", c.dir, source, ok, c.source, c.ok)
		}
	}
}
