package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The demo account's fleet: two regions with two depots each, 40
// vehicles, 15 clients and a few pairings. manager@demo.test manages the
// North region only and driver@demo.test has two vehicles, so logging in
// as them shows vehicle scoping at once.
func init() { DemoHooks = append(DemoHooks, demoVehicles, demoTrips) }

// demoFleet is region → depots; each depot gets nine vehicles and each
// region two more of its own.
var demoFleet = []struct {
	region, plate string
	depots        []string
}{
	{"North", "IL", []string{"Chicago", "Milwaukee"}},
	{"South", "TX", []string{"Austin", "Houston"}},
}

var demoModels = []string{"Ford Transit", "Mercedes Sprinter", "Ram ProMaster", "Toyota Hilux", "Isuzu NPR", "Ford F-150"}

var demoClients = []struct{ name, email, phone, address string }{
	{"Acme Logistics", "orders@acme.example", "+1 312 555 0101", "100 Wacker Dr, Chicago"},
	{"Blue Harbor Foods", "supply@blueharbor.example", "+1 414 555 0102", "22 Harbor St, Milwaukee"},
	{"Cedar Medical Group", "facilities@cedarmed.example", "+1 512 555 0103", "9 Cedar Ave, Austin"},
	{"Delta Builders", "site@deltabuild.example", "+1 713 555 0104", "410 Main St, Houston"},
	{"Evergreen Schools", "transport@evergreen.example", "+1 312 555 0105", "5 Elm Rd, Evanston"},
	{"Fulton Market Co-op", "hello@fultonmarket.example", "+1 312 555 0106", "800 Fulton St, Chicago"},
	{"Granite Energy", "fleet@graniteenergy.example", "+1 713 555 0107", "1 Energy Plaza, Houston"},
	{"Harbor Hospital", "logistics@harborhosp.example", "+1 414 555 0108", "60 Lake Dr, Milwaukee"},
	{"Ironworks Supply", "sales@ironworks.example", "+1 512 555 0109", "77 Forge Ln, Round Rock"},
	{"Juniper Hotels", "ops@juniper.example", "+1 512 555 0110", "300 Congress Ave, Austin"},
	{"Keystone Pharmacy", "rx@keystone.example", "+1 414 555 0111", "12 Wells St, Milwaukee"},
	{"Lakeside Events", "events@lakeside.example", "+1 312 555 0112", "2 Lake Shore Dr, Chicago"},
	{"Meridian Telecom", "field@meridian.example", "+1 713 555 0113", "55 Westheimer Rd, Houston"},
	{"Northwind Traders", "buy@northwind.example", "+1 262 555 0114", "18 Commerce St, Waukesha"},
	{"Oakridge Farms", "farm@oakridge.example", "+1 512 555 0115", "Ranch Rd 12, Dripping Springs"},
}

func demoVehicles(ctx context.Context, tx *sql.Tx, owner *Actor) error {
	now := timeKey(time.Now())
	insert := func(q string, args ...any) (int64, error) {
		return insertID(ctx, tx, q, args...)
	}
	exec := func(q string, args ...any) (int64, error) {
		_, err := tx.ExecContext(ctx, q, args...)
		return 0, err
	}
	group := func(name string, parent any) (int64, error) {
		return insert(`INSERT INTO vehicle_groups (account_id, parent_id, name, created_at) VALUES (?, ?, ?, ?)`, owner.AccountID, parent, name, now)
	}
	var vehicles []int64
	regions := map[string]int64{}
	n := 0
	addVehicle := func(groupID int64, plate string) error {
		n++
		model := demoModels[n%len(demoModels)]
		id, err := insert(`INSERT INTO vehicles (account_id, group_id, name, plate, vin, odometer_km, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)`, owner.AccountID, groupID,
			fmt.Sprintf("%s %02d", model, n), fmt.Sprintf("%s %03d %c%c", plate, 100+n*7, 'A'+rune(n%26), 'K'+rune(n%13)),
			fmt.Sprintf("1FT%c%013d", 'A'+rune(n%26), 48_000_000+n*7919), 12_000+n*3_217, now, now)
		vehicles = append(vehicles, id)
		return err
	}
	for _, r := range demoFleet {
		rid, err := group(r.region, nil)
		if err != nil {
			return err
		}
		regions[r.region] = rid
		for _, depot := range r.depots {
			did, err := group(depot, rid)
			if err != nil {
				return err
			}
			for i := 0; i < 9; i++ {
				if err := addVehicle(did, r.plate); err != nil {
					return err
				}
			}
		}
		for i := 0; i < 2; i++ {
			if err := addVehicle(rid, r.plate); err != nil {
				return err
			}
		}
	}
	var clients []int64
	for _, c := range demoClients {
		id, err := insert(`INSERT INTO clients (account_id, name, email, phone, address, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			owner.AccountID, c.name, c.email, c.phone, c.address, now, now)
		if err != nil {
			return err
		}
		clients = append(clients, id)
	}
	// Some vehicles serve only a few clients; the rest serve anyone.
	pairs := [][2]int{{0, 0}, {0, 5}, {1, 0}, {1, 11}, {2, 4}, {9, 1}, {9, 7}, {9, 10}, {10, 1}, {20, 2}, {20, 9}, {21, 3}, {21, 6}, {30, 12}}
	for _, p := range pairs {
		if _, err := exec(`INSERT INTO vehicle_clients (vehicle_id, client_id, created_at) VALUES (?, ?, ?)`, vehicles[p[0]], clients[p[1]], now); err != nil {
			return err
		}
	}
	member := func(email string) (int64, error) {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE u.email = ? AND m.account_id = ?`,
			email, owner.AccountID).Scan(&id)
		return id, err
	}
	manager, err := member("manager@demo.test")
	if err != nil {
		return err
	}
	if _, err := exec(`INSERT INTO member_group_grants (member_id, group_id, level, created_at) VALUES (?, ?, 'manage', ?)`, manager, regions["North"], now); err != nil {
		return err
	}
	driver, err := member("driver@demo.test")
	if err != nil {
		return err
	}
	for _, v := range []int64{vehicles[0], vehicles[20]} {
		if _, err := exec(`INSERT INTO member_vehicle_grants (member_id, vehicle_id, level, created_at) VALUES (?, ?, 'manage', ?)`, driver, v, now); err != nil {
			return err
		}
	}
	return nil
}
