package handlers_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"fleetgate/db/field"
)

// The field rules are one set: each bad input gets its message on every
// form that has the field, web and API alike, and the form keeps what was
// typed in the other fields.
func TestFieldRulesOnEveryForm(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	owner := a.login("owner@demo.test")
	driver := memberID(t, a, "driver@demo.test")
	driverRole := fmt.Sprint(roleIDByName(t, a, "Driver"))
	_, link := owner.invite("rules@example.com", roleIDByName(t, a, "Driver"), "selected")
	acceptPath := linkPath(t, link)
	stranger := a.client()
	me := a.login("manager@demo.test")

	// A form: its address, a valid submission, and who posts it.
	type form struct {
		name  string
		post  func(v url.Values) response
		valid url.Values
	}
	memberPage := fmt.Sprintf("/users/%d", driver)
	forms := map[string]form{
		"member": {"member page", func(v url.Values) response { return owner.postEdit(t, memberPage, memberPage, v) },
			url.Values{"first_name": {"Dan"}, "last_name": {"Driver"}, "phone": {"+1 555 0100"}, "role_id": {driverRole}, "channel": {"web"}}},
		"add": {"add person", func(v url.Values) response { return owner.postForm("/users/add", v) },
			url.Values{"first_name": {"Ada"}, "last_name": {"Added"}, "phone": {""}, "email": {"ada@example.com"}, "password": {newPassword},
				"role_id": {driverRole}, "channel": {"web"}, "vehicle_access": {"selected"}}},
		"invite": {"invite", func(v url.Values) response { return owner.postForm("/users/invite", v) },
			url.Values{"email": {"ivan@example.com"}, "role_id": {driverRole}, "channel": {"web"}, "vehicle_access": {"selected"}}},
		"accept": {"invitation accept", func(v url.Values) response { return stranger.postForm(acceptPath, v) },
			url.Values{"first_name": {"Rae"}, "last_name": {"Rules"}, "password": {newPassword}, "password_again": {newPassword}}},
		"profile": {"my profile", func(v url.Values) response { return me.postForm("/profile", v) },
			url.Values{"first_name": {"Mia"}, "last_name": {"Manager"}, "phone": {"030/1234"}}},
		"password": {"password change", func(v url.Values) response { return me.postForm("/profile/password", v) },
			url.Values{"current_password": {"fleetgate-demo"}, "new_password": {newPassword}, "new_password_again": {newPassword}}},
		"client": {"client", func(v url.Values) response { return owner.postForm("/clients", v) },
			url.Values{"name": {"Rules Client"}, "email": {"c@example.com"}, "phone": {"+1 555"}}},
	}
	// field name on each form.
	type target struct{ form, field string }
	names := []target{{"member", "first_name"}, {"member", "last_name"}, {"add", "first_name"}, {"add", "last_name"},
		{"accept", "first_name"}, {"accept", "last_name"}, {"profile", "first_name"}, {"profile", "last_name"}}
	phones := []target{{"member", "phone"}, {"add", "phone"}, {"profile", "phone"}, {"client", "phone"}}
	emails := []target{{"add", "email"}, {"invite", "email"}, {"client", "email"}}
	passwords := []target{{"add", "password"}, {"accept", "password"}, {"password", "new_password"}}

	rules := []struct {
		targets []target
		value   string
		want    string
	}{
		{names, strings.Repeat("n", 101), "Use at most 100 characters."},
		{names, "Ann\x00", field.MsgControl},
		{names, "Ann\x1b[31m", field.MsgControl},
		{names, "An\nn", field.MsgControl},
		{names, "Ann\u202eeeL", field.MsgBidi},
		{names, "Ann\u2067", field.MsgBidi},
		{names, "Ann\xff", field.MsgInvalidUTF8},
		{phones, "call me", "Use digits, spaces and + - ( ) . / only."},
		{phones, strings.Repeat("1", 41), "Use at most 40 characters."},
		{phones, "555\x000", field.MsgControl},
		{phones, "555\u202d1", field.MsgBidi},
		{emails, "nope", "Enter an e-mail address such as name@example.com."},
		{emails, "a\r@example.com", field.MsgControl},
		{emails, "a\u202e@example.com", field.MsgBidi},
		{passwords, "short", "Use at least 12 characters."},
		{passwords, "tram orbit\x00velvet 42", field.MsgControl},
		{passwords, "tram orbit\x1bvelvet 42", field.MsgControl},
		{passwords, "tram orbit\rvelvet 42", field.MsgControl},
		{passwords, "tram orbit\nvelvet 42", field.MsgControl},
		{passwords, "tram orbit\u2066velvet 42", field.MsgBidi},
	}
	// Required names: empty is refused on every form alike.
	for _, tg := range names {
		rules = append(rules, struct {
			targets []target
			value   string
			want    string
		}{[]target{tg}, "", "Enter the " + strings.ReplaceAll(tg.field, "_", " ") + "."})
	}
	for _, r := range rules {
		for _, tg := range r.targets {
			f := forms[tg.form]
			v := url.Values{}
			for k, vs := range f.valid {
				v[k] = append([]string(nil), vs...)
			}
			v.Set(tg.field, r.value)
			if tg.field == "new_password" {
				v.Set("new_password_again", r.value)
			}
			if tg.field == "password" && tg.form == "accept" {
				v.Set("password_again", r.value)
			}
			res := f.post(v)
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(res.body), r.want) {
				t.Errorf("%s, %s = %q: %d, want 422 with %q", f.name, tg.field, r.value, res.status, r.want)
				continue
			}
			// What was typed in the other fields is kept.
			for k, vs := range f.valid {
				if k == tg.field || strings.Contains(k, "password") || k == "role_id" || k == "channel" || k == "vehicle_access" || vs[0] == "" {
					continue
				}
				if got := res.doc().Find(`[name="`+k+`"]`).AttrOr("value", ""); got != vs[0] {
					t.Errorf("%s, bad %s: %s not kept (%q)", f.name, tg.field, k, got)
				}
			}
		}
	}
	// The password may not hold the e-mail's local part, on every screen.
	res := owner.postForm("/users/add", url.Values{"first_name": {"Ada"}, "last_name": {"Added"}, "email": {"adalovelace@example.com"},
		"password": {"my adalovelace pass"}, "role_id": {driverRole}, "channel": {"web"}, "vehicle_access": {"selected"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "name part of your e-mail address") {
		t.Errorf("add person, password with the local part: %d", res.status)
	}
	res = me.postForm("/profile/password", url.Values{"current_password": {"fleetgate-demo"}, "new_password": {"manager rides at dawn"}, "new_password_again": {"manager rides at dawn"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "name part of your e-mail address") {
		t.Errorf("profile password with the local part: %d", res.status)
	}
}

// The JSON API follows the same text rule and answers problem+json with
// the field's message.
func TestFieldRulesInTheAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	for _, body := range []string{
		`{"email":"driver@demo.test\u0000","password":"fleetgate-demo"}`,
		`{"email":"driver@demo.test","password":"fleetgate-demo","name":"phone\u202e"}`,
		`{"email":"driver@demo.test","password":"fleetgate-demo","name":"a\nb"}`,
	} {
		res := c.api(http.MethodPost, "/api/v1/tokens", "", body)
		if res.status != http.StatusUnprocessableEntity || res.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", body, res.status, res.body)
			continue
		}
		if !strings.Contains(res.body, `"errors"`) || !(strings.Contains(res.body, field.MsgControl) || strings.Contains(res.body, field.MsgBidi)) {
			t.Errorf("%s: no field message: %s", body, res.body)
		}
	}
}
