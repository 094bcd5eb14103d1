package db_test

import (
	"context"
	"fmt"
	"testing"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// BenchmarkMailFanOut measures what the messages add to a change in an
// account of 10,000 members: a vehicle edit with 50 watchers (each one's
// access checked, 50 messages written) and a member's deactivation
// (subscribers read among the 10,000 by their choice).
func BenchmarkMailFanOut(b *testing.B) {
	ctx := context.Background()
	d := open(b)
	o, _ := bigFleet(b, d, 1_000, 0)
	if err := d.GenerateMembers(ctx, o.AccountID, 10_000, "x"); err != nil {
		b.Fatal(err)
	}
	vs, _, err := d.ListVehicles(ctx, o, db.VehicleFilter{PerPage: 1})
	if err != nil {
		b.Fatal(err)
	}
	v := vs[0]
	member(b, d, o, "admin@big.test", perm.Admin) // the one subscriber besides the Owner (who acts)
	for i := range 50 {
		m := member(b, d, o, fmt.Sprintf("w%d@big.test", i), perm.Driver)
		grant(b, d, o, m, "vehicle", v.ID, db.View, nil)
		if err := d.Watch(ctx, actorOf(b, d, m), v.ID, true); err != nil {
			b.Fatal(err)
		}
	}
	edit := func(b *testing.B, id int64) {
		i := 0
		for b.Loop() {
			cur, err := d.Vehicle(ctx, o, id)
			if err != nil {
				b.Fatal(err)
			}
			i++
			if err := d.UpdateVehicle(ctx, o, id, cur.Version, db.VehicleInput{Name: fmt.Sprintf("V %d", i), GroupID: cur.GroupID}); err != nil {
				b.Fatal(err)
			}
		}
	}
	other, _, err := d.ListVehicles(ctx, o, db.VehicleFilter{PerPage: 1, Page: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("vehicle-edit-no-watchers", func(b *testing.B) { edit(b, other[0].ID) })
	b.Run("vehicle-edit-50-watchers", func(b *testing.B) { edit(b, v.ID) })
	b.Run("deactivate-reactivate-10000-members", func(b *testing.B) {
		m := member(b, d, o, "subject@big.test", perm.Driver)
		for b.Loop() {
			if err := d.SetStatus(ctx, o, m, "deactivated", db.Handover{}); err != nil {
				b.Fatal(err)
			}
			if err := d.SetStatus(ctx, o, m, "active", db.Handover{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
