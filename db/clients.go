package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"fleetgate/db/field"
	"fleetgate/db/perm"
)

// The client-usability rule (see Rules of access in doc.go): a vehicle without pairings may be used
// with any client, a paired vehicle only with its paired clients. A member
// sees the clients usable with at least one of their visible active
// vehicles; members with clients.manage see all clients of the account.
// clientCond is that rule as SQL over clients c; it needs the actor's
// scope in the statement's WITH clause. It reads vehicle_access (or, for
// all-vehicles access, the vehicles table) one vehicle at a time: "some
// visible active vehicle is unpaired" is asked once per statement, and a
// client's paired vehicles are looked up by the client.
func clientCond(a *Actor) (string, []any) {
	if a.Can(perm.ClientsManage) {
		return "c.account_id = ?", []any{a.AccountID}
	}
	if a.VehicleAccess == "all" {
		return `c.account_id = ? AND (
		EXISTS (SELECT 1 FROM vehicles v WHERE v.account_id = ? AND v.status = 'active'
		         AND NOT EXISTS (SELECT 1 FROM vehicle_clients p WHERE p.vehicle_id = v.id))
		OR EXISTS (SELECT 1 FROM vehicle_clients p JOIN vehicles v ON v.id = p.vehicle_id
		            WHERE p.client_id = c.id AND v.status = 'active'))`, []any{a.AccountID, a.AccountID}
	}
	return `c.account_id = ? AND (
		EXISTS (SELECT 1 FROM vehicle_access x
		         WHERE x.member_id = (SELECT member_id FROM scope_at) AND x.status = 'active'
		           AND (x.until IS NULL OR x.until > (SELECT now FROM scope_at))
		           AND NOT EXISTS (SELECT 1 FROM vehicle_clients p WHERE p.vehicle_id = x.vehicle_id))
		OR EXISTS (SELECT 1 FROM vehicle_clients p JOIN vehicle_access x ON x.vehicle_id = p.vehicle_id
		            WHERE p.client_id = c.id AND x.member_id = (SELECT member_id FROM scope_at) AND x.status = 'active'
		              AND (x.until IS NULL OR x.until > (SELECT now FROM scope_at))))`, []any{a.AccountID}
}

// Client is a client as the actor sees it.
type Client struct {
	ID       int64
	Name     string
	Email    string
	Phone    string
	Address  string
	Vehicles int // paired vehicles the actor sees
	Version  int // bumped by every change; edits name the one they started from
}

// Limits of the client fields.
const (
	ClientNameMax    = 100
	ClientEmailMax   = field.EmailMax
	ClientPhoneMax   = field.PhoneMax
	ClientAddressMax = 200
)

// ClientFilter narrows the client list.
type ClientFilter struct {
	Query string // words matched against name, e-mail and phone
	// PairedWith keeps only the clients paired with this vehicle (0: off).
	PairedWith int64
	Page       int
	PerPage    int
	// After and Before are cursors (ClientsPage); Count asks for the total.
	After, Before string
	Count         bool
}

func clientSearch(f ClientFilter) (string, []any) {
	var c conds
	if f.PairedWith != 0 {
		c.add("EXISTS (SELECT 1 FROM vehicle_clients p WHERE p.client_id = c.id AND p.vehicle_id = ?)", f.PairedWith)
	}
	words, ok := field.SearchWords(f.Query)
	if !ok {
		c.add("1 = 0") // a word no stored text can hold
	}
	for _, w := range words {
		like := "%" + escapeLike(w) + "%"
		c.add(`(c.name LIKE ? ESCAPE '\' OR c.email LIKE ? ESCAPE '\' OR c.phone LIKE ? ESCAPE '\')`, like, like, like)
	}
	return c.sql(), c.args
}

// clientList reads one page of the clients the actor sees, by name,
// along the clients_name index (account, name) from a cursor; each
// client's visibility and paired-vehicle count are looked up for the rows
// read, never for the whole account. With count the number of all
// matches is counted too.
func (d *DB) clientList(ctx context.Context, a *Actor, f ClientFilter, k keysetSpec, count bool) ([]Client, Keyset, error) {
	sc := d.scopeOf(a)
	cond, cargs := clientCond(a)
	search, sargs := clientSearch(f)
	bound, bargs, backwards := k.bounds("c.name", "c.id")
	dir := ""
	if backwards {
		dir = " DESC"
	}
	args := append(append(append([]any{}, cargs...), sargs...), bargs...)
	rows, err := d.readQuery(ctx, sc.with()+`SELECT c.id, c.name, c.email, c.phone, c.address,
			(SELECT COUNT(*) FROM vehicle_clients p WHERE p.client_id = c.id AND `+sc.seesVehicle("p.vehicle_id")+`), c.version
		  FROM clients c WHERE `+cond+` AND `+search+` AND `+bound+` ORDER BY c.name`+dir+`, c.id`+dir+` LIMIT ? OFFSET ?`,
		sc.argsWith(append(args, k.per+1, k.offset)...)...)
	if err != nil {
		return nil, Keyset{}, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		var c Client
		if err := rows.Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.Address, &c.Vehicles, &c.Version); err != nil {
			return nil, Keyset{}, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, Keyset{}, fmt.Errorf("list clients: %w", err)
	}
	out, ks := finish(out, k, backwards, func(c Client) string { return nameCursor(c.Name, c.ID) })
	if count && ks.Total < 0 {
		err := d.readRow(ctx, sc.with()+`SELECT COUNT(*) FROM clients c WHERE `+cond+` AND `+search,
			sc.argsWith(append(append([]any{}, cargs...), sargs...)...)...).Scan(&ks.Total)
		if err != nil {
			return nil, Keyset{}, fmt.Errorf("count clients: %w", err)
		}
	}
	return out, ks, nil
}

// ClientsPage returns one page of the clients the actor sees, by name,
// from the cursor f.After or f.Before (or the page number f.Page of an
// old link); the total only with f.Count or when one page holds all.
func (d *DB) ClientsPage(ctx context.Context, a *Actor, f ClientFilter) ([]Client, Keyset, error) {
	per := f.PerPage
	if per <= 0 {
		per = 25
	}
	k := keysetSpec{after: f.After, before: f.Before, per: per}
	if f.After == "" && f.Before == "" && f.Page > 1 {
		k.offset = (f.Page - 1) * per
	}
	return d.clientList(ctx, a, f, k, f.Count)
}

// ListClients returns one page of the clients the actor sees, by name,
// and how many match: page numbers and a count of all matches (use
// ClientsPage for lists whose cost must follow the page).
func (d *DB) ListClients(ctx context.Context, a *Actor, f ClientFilter) ([]Client, int, error) {
	p := pageOf(f.Page, f.PerPage, 25)
	rows, ks, err := d.clientList(ctx, a, f, keysetSpec{per: p.limit, offset: p.offset}, true)
	return rows, ks.Total, err
}

// Client returns one client the actor sees; ENotFound otherwise.
func (d *DB) Client(ctx context.Context, a *Actor, id int64) (Client, error) {
	return d.client(ctx, d.r, a, id)
}

func (d *DB) client(ctx context.Context, q queryer, a *Actor, id int64) (Client, error) {
	sc := d.scopeOf(a)
	cond, cargs := clientCond(a)
	var c Client
	err := q.QueryRowContext(ctx, sc.with()+`SELECT c.id, c.name, c.email, c.phone, c.address,
			(SELECT COUNT(*) FROM vehicle_clients p WHERE p.client_id = c.id AND `+sc.seesVehicle("p.vehicle_id")+`), c.version
		  FROM clients c WHERE c.id = ? AND `+cond, sc.argsWith(append([]any{id}, cargs...)...)...).
		Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.Address, &c.Vehicles, &c.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("Client")
	}
	return c, err
}

// ClientInput is what creating or editing a client takes.
type ClientInput struct {
	Name, Email, Phone, Address string
}

// Clean trims the input.
func (in *ClientInput) Clean() {
	in.Name = squeeze(in.Name)
	in.Email = strings.TrimSpace(in.Email)
	in.Phone = strings.TrimSpace(in.Phone)
	in.Address = squeeze(in.Address)
}

// Problems returns a message per field that is not acceptable.
func (in ClientInput) Problems() map[string]string {
	p := map[string]string{}
	switch {
	case in.Name == "":
		p["name"] = "Enter the client's name."
	case len([]rune(in.Name)) > ClientNameMax:
		p["name"] = "A name has at most " + strconv.Itoa(ClientNameMax) + " characters."
	case textProblem(in.Name) != "":
		p["name"] = textProblem(in.Name)
	}
	if m := field.Phone(in.Phone); m != "" {
		p["phone"] = m
	}
	if m := textProblem(in.Address); m != "" {
		p["address"] = m
	}
	if in.Email != "" {
		if m := field.Email(in.Email); m != "" {
			p["email"] = m
		} else if len(in.Email) > ClientEmailMax {
			p["email"] = "An e-mail address has at most 254 characters."
		} else if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
			p["email"] = "Enter an e-mail address like name@example.com, or leave it empty."
		}
	}
	if len([]rune(in.Address)) > ClientAddressMax {
		p["address"] = "An address has at most " + strconv.Itoa(ClientAddressMax) + " characters."
	}
	return p
}

func (in ClientInput) firstProblem() error {
	for _, f := range []string{"name", "email", "phone", "address"} {
		if msg, ok := in.Problems()[f]; ok {
			return FieldError(f, "%s", msg)
		}
	}
	return nil
}

func clientNameTaken(err error, name string) error {
	if isUnique(err) {
		return &Error{Code: EConflict, Field: "name", Message: "A client named \"" + name + "\" already exists."}
	}
	return err
}

// CreateClient adds a client to the account (the route needs clients.manage).
func (d *DB) CreateClient(ctx context.Context, a *Actor, in ClientInput) (int64, error) {
	in.Clean()
	if err := in.firstProblem(); err != nil {
		return 0, err
	}
	var id int64
	err := d.update(ctx, func(tx *sql.Tx) error {
		now := d.stamp()
		var err error
		id, err = insertID(ctx, tx, `INSERT INTO clients (account_id, name, email, phone, address, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.AccountID, in.Name, in.Email, in.Phone, in.Address, now, now)
		if err != nil {
			return clientNameTaken(err, in.Name)
		}
		return d.audit(ctx, tx, a, Event{Kind: "client.create", Target: in.Name, Summary: "Client created", After: in, Client: id})
	})
	return id, err
}

// UpdateClient changes a client the actor sees, from the version the form
// started from (an older one is a StaleError).
func (d *DB) UpdateClient(ctx context.Context, a *Actor, id int64, version int, in ClientInput) error {
	in.Clean()
	if err := in.firstProblem(); err != nil {
		return err
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		c, err := d.client(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := d.checkVersion(ctx, tx, a, "clients", id, c.Version, version); err != nil {
			return err
		}
		before := ClientInput{Name: c.Name, Email: c.Email, Phone: c.Phone, Address: c.Address}
		if before == in {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE clients SET name = ?, email = ?, phone = ?, address = ?, updated_at = ?, `+setVersioned+`
			WHERE id = ? AND account_id = ? AND version = ?`,
			append(append([]any{in.Name, in.Email, in.Phone, in.Address, d.stamp()}, d.versionArgs(a)...), id, a.AccountID, c.Version)...)
		if err != nil {
			return clientNameTaken(err, in.Name)
		}
		if err := d.updated(ctx, tx, a, res, "clients", id); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "client.update", Target: in.Name, Summary: "Client edited", Before: before, After: in, Client: id})
	})
}

// DeleteClient deletes a client no trip refers to; its pairings go with
// it (a vehicle left without pairings is usable with any client again).
func (d *DB) DeleteClient(ctx context.Context, a *Actor, id int64) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		c, err := d.client(ctx, tx, a, id)
		if err != nil {
			return err
		}
		var trips, pairings int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM trips WHERE client_id = ?), (SELECT COUNT(*) FROM vehicle_clients WHERE client_id = ?)`,
			id, id).Scan(&trips, &pairings); err != nil {
			return err
		}
		if trips > 0 {
			return Errorf(EConflict, "%s cannot be deleted: it is the client of %s. Keep the client, or change those trips first.",
				c.Name, plural(trips, "trip", "trips"))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM clients WHERE id = ? AND account_id = ?`, id, a.AccountID); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "client.delete", Target: c.Name, Client: id,
			Summary: "Client deleted, with " + plural(pairings, "pairing", "pairings"),
			Before:  ClientInput{Name: c.Name, Email: c.Email, Phone: c.Phone, Address: c.Address}})
	})
}

// ClientsForVehicle lists the clients the actor may use with a vehicle
// they see (the client-usability rule): its paired clients, or every client when it has no
// pairings. The trips screens offer exactly these.
func (d *DB) ClientsForVehicle(ctx context.Context, a *Actor, vehicleID int64, f ClientFilter) ([]Client, int, error) {
	if _, err := d.VehicleLevel(ctx, a, vehicleID); err != nil {
		return nil, 0, err
	}
	search, sargs := clientSearch(f)
	usable := `c.account_id = ? AND (NOT EXISTS (SELECT 1 FROM vehicle_clients WHERE vehicle_id = ?)
		OR EXISTS (SELECT 1 FROM vehicle_clients WHERE vehicle_id = ? AND client_id = c.id))`
	args := append([]any{a.AccountID, vehicleID, vehicleID}, sargs...)
	var out []Client
	total, err := readPage(ctx, d.r, `SELECT c.id, c.name, c.email, c.phone, c.address, 0, COUNT(*) OVER () FROM clients c WHERE `+usable+` AND `+search+`
		ORDER BY c.name, c.id LIMIT ? OFFSET ?`, args, pageOf(f.Page, f.PerPage, 25),
		func(rows *sql.Rows, total *int) error {
			var c Client
			if err := rows.Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.Address, &c.Vehicles, total); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	if err != nil {
		return nil, 0, fmt.Errorf("clients for vehicle: %w", err)
	}
	return out, total, nil
}

// CheckClientForVehicle refuses a client that may not be used with a
// vehicle (the client-usability rule), as an error on the form field "client_id". The trips
// feature calls it before saving a trip with a client.
func (d *DB) CheckClientForVehicle(ctx context.Context, a *Actor, vehicleID, clientID int64) error {
	if _, err := d.VehicleLevel(ctx, a, vehicleID); err != nil {
		return err
	}
	var ok bool
	err := d.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM clients c WHERE c.id = ? AND c.account_id = ?
		AND (NOT EXISTS (SELECT 1 FROM vehicle_clients WHERE vehicle_id = ?)
		     OR EXISTS (SELECT 1 FROM vehicle_clients WHERE vehicle_id = ? AND client_id = c.id)))`,
		clientID, a.AccountID, vehicleID, vehicleID).Scan(&ok)
	if err != nil {
		return err
	}
	if !ok {
		return FieldError("client_id", "This vehicle is paired with other clients; choose one of the clients offered for it.")
	}
	return nil
}
