package testenv

import (
	"sync"
	"time"
)

// TickingClock returns a clock (for versions.Options.Clock) that moves one
// minute per reading from 2026-03-01 09:00 UTC: the first reading is 09:01.
// Versions written in a test then have distinct, ordered timestamps
// whatever the machine's speed. It is safe for concurrent use.
func TickingClock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Minute)
		return now
	}
}
