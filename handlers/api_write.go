package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"fleetgate/db"
)

// What every write of the JSON API shares:
//
//   - Versions as entity tags: a GET of a record answers its version in
//     ETag; an update or a change of state sends it back in If-Match.
//     Without If-Match the answer is 428, with an old one 412 carrying the
//     record as it is now (nothing is overwritten unseen). The version is
//     compared inside the write's transaction, by the same db methods the
//     console calls.
//   - Idempotency-Key on creates: a retry answers the first result (see
//     db/idempotency.go).
//   - A token bucket per API token (Config.APIRate, APIBurst): 429 with
//     Retry-After when it is empty.
//   - Every refusal is problem+json; a refused input names its fields.

// apiBodyMax bounds a request body of the API.
const apiBodyMax = 64 << 10

// readJSON reads the request's JSON object into v. Unknown fields, a body
// that is not one object, or a body too large are the sender's mistake (400).
func readJSON(c echo.Context, v any) error {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, apiBodyMax))
	if err != nil {
		return problem(c, http.StatusBadRequest, "Bad request", fmt.Sprintf("The body must be a JSON object of at most %d KB.", apiBodyMax>>10))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		detail := "The body must be a JSON object as /api/v1/openapi.json describes."
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return problemFields(c, http.StatusBadRequest, "Bad request", "The field "+te.Field+" has the wrong type ("+te.Type.String()+" expected).",
				map[string]string{te.Field: "Wrong type: " + te.Type.String() + " expected."})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return problemFields(c, http.StatusBadRequest, "Bad request", "The field "+f+" is not known here.", map[string]string{f: "Not a field of this request."})
		}
		return problem(c, http.StatusBadRequest, "Bad request", detail)
	}
	if dec.More() {
		return problem(c, http.StatusBadRequest, "Bad request", "The body must be one JSON object.")
	}
	return nil
}

// answered tells a handler that readJSON (or another check) already wrote
// the answer: the handler returns it as is.
func answered(c echo.Context) bool { return c.Response().Committed }

// invalidFields answers input refused by a form's rules: 422 with a
// message per field, the first one as the detail.
func invalidFields(c echo.Context, errs map[string]string, order ...string) error {
	detail := "Some fields are not acceptable."
	for _, f := range order {
		if m, ok := errs[f]; ok {
			detail = m
			break
		}
	}
	return problemFields(c, http.StatusUnprocessableEntity, "Invalid input", detail, errs)
}

// setETag answers a record's version as its entity tag.
func setETag(c echo.Context, version int) {
	c.Response().Header().Set("ETag", `"`+strconv.Itoa(version)+`"`)
}

// ifMatch reads the version a change is based on from If-Match. Missing,
// it is refused with 428; unreadable, with 412. ok false: answered.
func ifMatch(c echo.Context) (version int, ok bool, err error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" {
		return 0, false, problem(c, http.StatusPreconditionRequired, "If-Match required",
			"Send If-Match with the ETag of the record you read (its version): a change is never applied to a record you have not seen.")
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, perr := strconv.Atoi(h)
	if perr != nil || n <= 0 {
		return 0, false, problem(c, http.StatusPreconditionFailed, "Precondition failed",
			"If-Match must be the ETag of the record, e.g. \"3\".")
	}
	return n, true, nil
}

// refused answers a refused write. A conflict on a record whose version
// is no longer sent is 412 with the record as it is now in "current" (and
// its ETag); other refusals go to the error handler, which names the field.
func refused(c echo.Context, err error, sent int, current func() (int, any, error)) error {
	if db.ErrorCode(err) == db.EConflict && current != nil {
		v, body, cerr := current()
		if cerr != nil {
			return cerr
		}
		if v != sent {
			setETag(c, v)
			c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
			return c.JSON(http.StatusPreconditionFailed, map[string]any{"type": "about:blank", "title": "Precondition failed",
				"status": http.StatusPreconditionFailed, "detail": db.SafeMessage(err), "current": body})
		}
	}
	return err
}

// listPage reads which page of a list to answer: the opaque cursor "next"
// of the previous page, or page=N.
func listPage(c echo.Context) (int, error) {
	cur := c.QueryParam("cursor")
	if cur == "" {
		return max(1, queryInt(c, "page")), nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cur)
	n, perr := strconv.Atoi(strings.TrimPrefix(string(b), "p"))
	if err != nil || perr != nil || !strings.HasPrefix(string(b), "p") || n < 1 {
		return 0, problemFields(c, http.StatusUnprocessableEntity, "Invalid input", "The cursor is not one this API gave.",
			map[string]string{"cursor": "Send the value of next from the previous page."})
	}
	return n, nil
}

// perPage reads per_page (1 to 200, default def).
func perPage(c echo.Context, def int) int {
	if n := queryInt(c, "per_page"); n > 0 {
		return min(n, 200)
	}
	return def
}

// nextCursor is the cursor of the page after page ("" after the last one).
func nextCursor(page, per, total int) string {
	if page*per >= total {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte("p" + strconv.Itoa(page+1)))
}

// idempotent wraps a create of the API: under an Idempotency-Key, the
// first request runs and its answer is stored when it succeeded; a replay
// (same member, key, method, path and body) answers that result again
// with Idempotent-Replayed: true; the same key with another request is
// refused (422). Without the header the create simply runs.
func (s *Server) idempotent(h echo.HandlerFunc) echo.HandlerFunc { return s.idempotentKeeping(h, nil) }

// idempotentKeeping is idempotent for answers that hold a secret shown
// once: keep turns the answer into what is stored for replays.
func (s *Server) idempotentKeeping(h echo.HandlerFunc, keep func([]byte) []byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if key == "" {
			return h(c)
		}
		if len(key) > 200 {
			return problemFields(c, http.StatusUnprocessableEntity, "Invalid input", "The Idempotency-Key has at most 200 characters.",
				map[string]string{"Idempotency-Key": "At most 200 characters."})
		}
		raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, apiBodyMax))
		if err != nil {
			return problem(c, http.StatusBadRequest, "Bad request", fmt.Sprintf("The body must be a JSON object of at most %d KB.", apiBodyMax>>10))
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(raw))
		sum := sha256.Sum256([]byte(c.Request().Method + " " + c.Request().URL.Path + "\n" + string(raw)))
		ctx, a := c.Request().Context(), actor(c)
		first, err := s.db.ReserveIdempotency(ctx, a.MemberID, key, hex.EncodeToString(sum[:]))
		if err != nil {
			if db.ErrorCode(err) == db.EConflict {
				c.Response().Header().Set("Retry-After", "1")
			}
			return err
		}
		if first != nil {
			hd := c.Response().Header()
			hd.Set("Idempotent-Replayed", "true")
			if first.Location != "" {
				hd.Set(echo.HeaderLocation, first.Location)
			}
			return c.Blob(first.Status, first.ContentType, first.Body)
		}
		// Run the create, answering its errors here, so that the answer
		// can be kept.
		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		if err := h(c); err != nil {
			c.Error(err)
		}
		c.Response().Writer = rec.ResponseWriter
		status := c.Response().Status
		if status >= 200 && status < 300 {
			hd := c.Response().Header()
			body := rec.body.Bytes()
			if keep != nil {
				body = keep(body)
			}
			return s.db.StoreIdempotency(ctx, a.MemberID, key, db.IdempotentAnswer{Status: status,
				ContentType: hd.Get(echo.HeaderContentType), Location: hd.Get(echo.HeaderLocation), Body: body})
		}
		return s.db.ReleaseIdempotency(ctx, a.MemberID, key)
	}
}

// recorder keeps a copy of what an answer writes.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// apiLimiter is the token bucket of each API token: Rate requests a
// second on average, bursts of up to Burst.
type apiLimiter struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	by    map[int64]*rate.Limiter
}

func newAPILimiter(perSecond float64, burst int) *apiLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &apiLimiter{limit: rate.Limit(perSecond), burst: burst, by: map[int64]*rate.Limiter{}}
}

// wait is 0 when token may go on now, else how long until it may.
func (l *apiLimiter) wait(token int64, now time.Time) time.Duration {
	l.mu.Lock()
	lim, ok := l.by[token]
	if !ok {
		if len(l.by) >= 100_000 { // forget the idle buckets (they are full again anyway)
			for k, v := range l.by {
				if v.TokensAt(now) >= float64(l.burst) {
					delete(l.by, k)
				}
			}
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.by[token] = lim
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d > 0 {
		r.CancelAt(now)
	}
	return d
}

// throttle refuses an API request whose token has used up its bucket.
func (s *Server) throttle(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a := actor(c)
		if s.limiter == nil || a == nil || a.Token == nil || !isAPI(c) {
			return next(c)
		}
		if d := s.limiter.wait(a.Token.ID, time.Now()); d > 0 {
			secs := int(math.Ceil(d.Seconds()))
			c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
			return problem(c, http.StatusTooManyRequests, "Too many requests",
				fmt.Sprintf("This token may send %g requests a second (bursts of %d). Retry in %d s.", float64(s.limiter.limit), s.limiter.burst, secs))
		}
		return next(c)
	}
}
