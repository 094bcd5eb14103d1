package db

import (
	"context"
	"database/sql"
	"strings"
)

// Pairing ties a vehicle to the clients it may be used with (the client-usability rule). The
// pairing screens never load the cross product: they show one page of
// vehicles against one page of clients, both filtered by the actor's
// scope, and read the pairings of just those cells.

// Pair is one (vehicle, client) cell.
type Pair struct{ VehicleID, ClientID int64 }

// Pairs is a set of pairings.
type Pairs map[Pair]bool

// Has reports whether the vehicle is paired with the client.
func (p Pairs) Has(vehicleID, clientID int64) bool { return p[Pair{vehicleID, clientID}] }

// PairFilter is the pairing grid's two searches and pages: each axis
// pages with its own cursors (After, Before) and counts only with Count.
type PairFilter struct {
	Vehicles VehicleFilter
	Clients  ClientFilter
}

// PairingGrid is one page of the actor's vehicles against one page of the
// clients they see, with the pairings among them. Each axis says where
// its page stands (its cursors; the total when known without counting or
// asked for).
type PairingGrid struct {
	Vehicles    []Vehicle
	VehicleKeys Keyset
	Clients     []Client
	ClientKeys  Keyset
	Paired      Pairs
}

// PairingGrid reads one page of the pairing grid: a keyset page of each
// axis, read through its index (VehiclesPage, ClientsPage), so that its
// cost follows the page and not the account.
func (d *DB) PairingGrid(ctx context.Context, a *Actor, f PairFilter) (PairingGrid, error) {
	var g PairingGrid
	var err error
	if g.Vehicles, g.VehicleKeys, err = d.VehiclesPage(ctx, a, f.Vehicles); err != nil {
		return g, err
	}
	if g.Clients, g.ClientKeys, err = d.ClientsPage(ctx, a, f.Clients); err != nil {
		return g, err
	}
	g.Paired, err = d.pairsAmong(ctx, vehicleIDs(g.Vehicles), clientIDs(g.Clients))
	return g, err
}

func vehicleIDs(vs []Vehicle) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

func clientIDs(cs []Client) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// pairsAmong reads the pairings among vehicles and clients the caller has
// already scoped.
func (d *DB) pairsAmong(ctx context.Context, vehicles, clients []int64) (Pairs, error) {
	out := Pairs{}
	if len(vehicles) == 0 || len(clients) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(vehicles)+len(clients))
	for _, id := range vehicles {
		args = append(args, id)
	}
	for _, id := range clients {
		args = append(args, id)
	}
	rows, err := d.r.QueryContext(ctx, `SELECT vehicle_id, client_id FROM vehicle_clients
		WHERE vehicle_id IN (`+marks(len(vehicles))+`) AND client_id IN (`+marks(len(clients))+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p Pair
		if err := rows.Scan(&p.VehicleID, &p.ClientID); err != nil {
			return nil, err
		}
		out[p] = true
	}
	return out, rows.Err()
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// VehicleClients is a page of the clients the actor sees for one vehicle
// they see, with which are paired. f.PairedWith set to the vehicle shows
// the paired ones only.
func (d *DB) VehicleClients(ctx context.Context, a *Actor, vehicleID int64, f ClientFilter) ([]Client, int, Pairs, error) {
	if _, err := d.VehicleLevel(ctx, a, vehicleID); err != nil {
		return nil, 0, nil, err
	}
	cs, total, err := d.ListClients(ctx, a, f)
	if err != nil {
		return nil, 0, nil, err
	}
	p, err := d.pairsAmong(ctx, []int64{vehicleID}, clientIDs(cs))
	return cs, total, p, err
}

// ClientVehicles is a page of the vehicles the actor sees for one client
// they see, with which are paired. f.PairedWith set to the client shows
// the paired ones only.
func (d *DB) ClientVehicles(ctx context.Context, a *Actor, clientID int64, f VehicleFilter) ([]Vehicle, int, Pairs, error) {
	if _, err := d.Client(ctx, a, clientID); err != nil {
		return nil, 0, nil, err
	}
	vs, total, err := d.ListVehicles(ctx, a, f)
	if err != nil {
		return nil, 0, nil, err
	}
	p, err := d.pairsAmong(ctx, vehicleIDs(vs), []int64{clientID})
	return vs, total, p, err
}

// SetPairing pairs (on) or unpairs a vehicle the actor manages with a
// client the actor sees. Setting what already holds changes nothing and
// writes no audit event. It returns the vehicle and client for the answer.
func (d *DB) SetPairing(ctx context.Context, a *Actor, vehicleID, clientID int64, on bool) (Vehicle, Client, error) {
	var v Vehicle
	var c Client
	err := d.update(ctx, func(tx *sql.Tx) error {
		var err error
		if v, err = d.managedVehicle(ctx, tx, a, vehicleID); err != nil {
			return err
		}
		if c, err = d.client(ctx, tx, a, clientID); err != nil {
			return err
		}
		var res sql.Result
		if on {
			res, err = tx.ExecContext(ctx, `INSERT INTO vehicle_clients (vehicle_id, client_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				vehicleID, clientID, d.stamp())
		} else {
			res, err = tx.ExecContext(ctx, `DELETE FROM vehicle_clients WHERE vehicle_id = ? AND client_id = ?`, vehicleID, clientID)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM vehicle_clients WHERE vehicle_id = ?`, vehicleID).Scan(&v.Clients); err != nil {
			return err
		}
		kind, summary := "pairing.add", "Vehicle paired with client"
		if !on {
			kind, summary = "pairing.remove", "Vehicle unpaired from client"
			if v.Clients == 0 {
				summary += "; the vehicle now has no pairings and is usable with any client"
			}
		}
		if err := d.audit(ctx, tx, a, Event{Kind: kind, Target: v.Name + " – " + c.Name, Summary: summary, Vehicle: vehicleID, Client: clientID,
			Before: map[string]any{"vehicle_id": vehicleID, "client_id": clientID, "paired": !on},
			After:  map[string]any{"vehicle_id": vehicleID, "client_id": clientID, "paired": on}}); err != nil {
			return err
		}
		what := "paired " + v.Name + " with the client " + c.Name + "."
		if !on {
			what = "unpaired " + v.Name + " from the client " + c.Name + "."
		}
		return d.mailVehicle(ctx, tx, a, vehicleID, "Pairing of "+v.Name+" changed", what)
	})
	return v, c, err
}
