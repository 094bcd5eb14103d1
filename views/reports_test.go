package views

import (
	"context"
	"strings"
	"testing"

	"fleetgate/db"
)

func TestBasisTextSaysWhatTotalsCover(t *testing.T) {
	for _, tc := range []struct {
		b    db.Basis
		want string
	}{
		{db.Basis{All: true, Vehicles: 40}, "Based on all 40 vehicles of the account."},
		{db.Basis{Vehicles: 12}, "Based on the 12 vehicles you can access."},
		{db.Basis{Vehicles: 2, OwnOnly: true}, "Based on the 2 vehicles you can access, only the trips you drove."},
		{db.Basis{All: true, Vehicles: 5, Since: "2026-10-30"}, "Based on all 5 vehicles of the account; trips before 2026-10-30 are beyond your history limit and not counted."},
		{db.Basis{Vehicles: 3, NoTrips: true}, "Based on the 3 vehicles you can access. Your role does not include 'View trips', so no trips are counted."},
	} {
		if got := BasisText(tc.b); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.b, got, tc.want)
		}
	}
}

// A chart reads without colour: a title, a description with every value,
// and each bar's label and value as text.
func TestBarChartCarriesItsValuesAsText(t *testing.T) {
	var b strings.Builder
	c := Chart{ID: "c", Title: "Distance", Bars: []Bar{{Label: "business", Value: 30, Text: "30 km"}, {Label: "private", Value: 0, Text: "0 km"}}}
	if err := barChart(c).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{`role="img"`, `<title id="c-title">Distance</title>`, `<desc id="c-desc">business: 30 km; private: 0 km.</desc>`,
		`>business</text>`, `>30 km</text>`, `>0 km</text>`} {
		if !strings.Contains(html, want) {
			t.Errorf("missing %s in\n%s", want, html)
		}
	}
}
