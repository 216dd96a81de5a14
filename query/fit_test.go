package query

import (
	"slices"
	"testing"
)

func TestFitWidths(t *testing.T) {
	cases := []struct {
		width     []int
		maxWidth  int
		want      []int
		wantTotal int // the fitted line's length, when it fits
	}{
		{[]int{3, 5}, 80, []int{3, 5}, 10},                // fits: unchanged
		{[]int{2, 64, 40}, 60, []int{2, 27, 27}, 60},      // the wide ones share what is left
		{[]int{10, 100}, 40, []int{10, 28}, 40},           // only the widest is cut
		{[]int{50, 50, 50, 50}, 20, []int{6, 6, 6, 6}, 0}, // never below minColumn
		{[]int{4, 2}, 3, []int{4, 2}, 0},                  // narrow columns stay whole
		{nil, 10, nil, 0},
	}
	for _, c := range cases {
		got := FitWidths(c.width, 2, c.maxWidth)
		if !slices.Equal(got, c.want) {
			t.Errorf("FitWidths(%v, 2, %d) = %v, want %v", c.width, c.maxWidth, got, c.want)
		}
		if c.wantTotal > 0 {
			total := 2 * (len(got) - 1)
			for _, w := range got {
				total += w
			}
			if total != c.wantTotal {
				t.Errorf("FitWidths(%v, 2, %d): line of %d", c.width, c.maxWidth, total)
			}
		}
	}
}

func TestShorten(t *testing.T) {
	cases := []struct {
		s     string
		width int
		want  string
	}{
		{"abc", 3, "abc"},
		{"abcdef", 4, "abc…"},
		{"héllo wörld", 6, "héllo…"},
		{"abc", 1, "…"},
		{"abc", 0, ""},
	}
	for _, c := range cases {
		if got := Shorten(c.s, c.width); got != c.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", c.s, c.width, got, c.want)
		}
	}
}

func TestMarshalJSONNoHTMLEscape(t *testing.T) {
	b, err := marshalJSON("<a & b>")
	if err != nil || string(b) != `"<a & b>"` {
		t.Fatalf("marshalJSON: %s %v", b, err)
	}
}
