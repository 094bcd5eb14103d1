package db_test

import (
	"context"
	"slices"
	"testing"

	"fleetgate/db"
)

// TestVehiclesPageWalksTheList walks the demo's vehicle list page by page
// forwards and backwards with cursors, for all-vehicles access, a group
// grant and direct grants, with and without a filter: the pages put
// together are exactly the counted list, in the same order, each row
// once; the total is known without counting when one page holds all.
func TestVehiclesPageWalksTheList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openDemo(t)
	for _, member := range []int64{1, 3, 5} {
		a := actorOf(t, d, member)
		for _, f := range []db.VehicleFilter{{}, {Status: "all"}, {Query: "a"}, {Status: "archived"}} {
			f.PerPage = 1000
			all, total, err := d.ListVehicles(ctx, a, f)
			if err != nil || total != len(all) {
				t.Fatalf("member %d %+v: %d of %d, %v", member, f, len(all), total, err)
			}
			want := make([]int64, len(all))
			for i, v := range all {
				want[i] = v.ID
			}
			f.PerPage = 3
			var got []int64
			var pages []db.Keyset
			for {
				rows, ks, err := d.VehiclesPage(ctx, a, f)
				if err != nil {
					t.Fatal(err)
				}
				if f.After == "" && len(want) > 3 && ks.Total != -1 {
					t.Fatalf("a first page of a longer list counted: %d", ks.Total)
				}
				for _, v := range rows {
					got = append(got, v.ID)
				}
				pages = append(pages, ks)
				if ks.Next == "" {
					break
				}
				f.After = ks.Next
			}
			if !slices.Equal(got, want) {
				t.Fatalf("member %d %+v: forward %v, want %v", member, f, got, want)
			}
			if len(want) <= 3 && pages[0].Total != len(want) {
				t.Fatalf("member %d: a single page's total %d", member, pages[0].Total)
			}
			// Backwards from the last page, through Prev.
			var back []int64
			f.After, f.Before = "", ""
			if len(pages) > 1 {
				f.After = pages[len(pages)-2].Next // the last page
			}
			for {
				rows, ks, err := d.VehiclesPage(ctx, a, f)
				if err != nil {
					t.Fatal(err)
				}
				ids := make([]int64, len(rows))
				for i, v := range rows {
					ids[i] = v.ID
				}
				back = append(ids, back...)
				if ks.Prev == "" {
					break
				}
				f.After, f.Before = "", ks.Prev
			}
			if !slices.Equal(back, want) {
				t.Fatalf("member %d %+v: backwards %v, want %v", member, f, back, want)
			}
			f.After, f.Before, f.Count = "", "", true
			if _, ks, err := d.VehiclesPage(ctx, a, f); err != nil || ks.Total != len(want) {
				t.Fatalf("member %d: counted %d, want %d (%v)", member, ks.Total, len(want), err)
			}
		}
	}
}
