package db_test

import (
	"context"
	"testing"

	"fleetgate/db"
)

// The version each record is at now, as its edit form would carry it.

func vehicleVersion(t testing.TB, d *db.DB, a *db.Actor, id int64) int {
	t.Helper()
	v, err := d.Vehicle(context.Background(), a, id)
	if err != nil {
		t.Fatalf("vehicle %d: %v", id, err)
	}
	return v.Version
}

func clientVersion(t testing.TB, d *db.DB, a *db.Actor, id int64) int {
	t.Helper()
	c, err := d.Client(context.Background(), a, id)
	if err != nil {
		t.Fatalf("client %d: %v", id, err)
	}
	return c.Version
}

func groupVersion(t testing.TB, d *db.DB, a *db.Actor, id int64) int {
	t.Helper()
	gs, err := d.Groups(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.ID == id {
			return g.Version
		}
	}
	t.Fatalf("group %d not seen", id)
	return 0
}

func memberVersion(t testing.TB, d *db.DB, a *db.Actor, id int64) int {
	t.Helper()
	m, err := d.Member(context.Background(), a, id)
	if err != nil {
		t.Fatalf("member %d: %v", id, err)
	}
	return m.Version
}
