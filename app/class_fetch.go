package app

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// classFetch is the class API over the browser's fetch, on the page's own origin (relative
// URLs): nothing leaves the teacher's server. Each answer is copied out of its promise and
// handed to the UI goroutine; no JS callback waits on anything.
type classFetch struct{ ctx app.Context }

// fetchText sends one request and calls done on the UI goroutine with the status, the
// Retry-After header and the body, or with an error when the network failed.
func fetchText(ctx app.Context, method, path, secret string, body []byte, done func(status int, retryAfter string, body []byte, err error)) {
	if !app.IsClient {
		return
	}
	var onResp, onBody, onErr app.Func
	release := func() { onResp.Release(); onBody.Release(); onErr.Release() }
	var status int
	var retry string
	onErr = app.FuncOf(func(this app.Value, args []app.Value) any {
		msg := "the network request failed"
		if len(args) > 0 && args[0].Truthy() {
			msg += ": " + args[0].Call("toString").String()
		}
		release()
		go ctx.Dispatch(func(app.Context) { done(0, "", nil, errors.New(msg)) })
		return nil
	})
	onBody = app.FuncOf(func(this app.Value, args []app.Value) any {
		text := []byte(args[0].String())
		release()
		go ctx.Dispatch(func(app.Context) { done(status, retry, text, nil) })
		return nil
	})
	onResp = app.FuncOf(func(this app.Value, args []app.Value) any {
		resp := args[0]
		status = resp.Get("status").Int()
		if h := resp.Get("headers").Call("get", "Retry-After"); h.Truthy() {
			retry = h.String()
		}
		resp.Call("text").Call("then", onBody, onErr)
		return nil
	})
	headers := map[string]any{}
	opts := map[string]any{"method": method, "cache": "no-store"}
	if body != nil {
		headers["Content-Type"] = "application/json"
		opts["body"] = string(body)
	}
	if secret != "" {
		headers["X-Class-Secret"] = secret
	}
	opts["headers"] = headers
	app.Window().Call("fetch", underPrefix(ctx, path), opts).Call("then", onResp, onErr)
}

// call sends a JSON body (nil: none) and decodes the JSON answer into into.
func (c classFetch) call(method, path, secret string, in, into any, done func(error)) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			done(err)
			return
		}
	}
	fetchText(c.ctx, method, path, secret, body, func(status int, retry string, data []byte, err error) {
		if err != nil {
			done(err)
			return
		}
		done(classAnswer(status, retry, data, into))
	})
}

func classPath(code string, rest ...string) string {
	p := "/api/class/" + url.PathEscape(code)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func (c classFetch) probe(done func(on bool)) {
	fetchText(c.ctx, "GET", "/api/class", "", nil, func(status int, _ string, data []byte, err error) {
		done(err == nil && probeAnswer(status, data))
	})
}

func (c classFetch) openClass(name, lang string, done func(classInfo, error)) {
	var info classInfo
	c.call("POST", "/api/class", "", map[string]string{"name": name, "lang": lang}, &info, func(err error) { done(info, err) })
}

func (c classFetch) getClass(code string, done func(classInfo, error)) {
	var info classInfo
	c.call("GET", classPath(code), "", nil, &info, func(err error) { done(info, err) })
}

func (c classFetch) sendPicks(code, student string, picks []classPick, done func(classSent, error)) {
	var res classSent
	in := struct {
		Student string      `json:"student"`
		Picks   []classPick `json:"picks"`
	}{student, picks}
	c.call("POST", classPath(code, "picks"), "", in, &res, func(err error) { done(res, err) })
}

func (c classFetch) ownCount(code, student string, done func(int, error)) {
	var res struct {
		Picks int `json:"picks"`
	}
	c.call("GET", classPath(code, "students", student), "", nil, &res, func(err error) { done(res.Picks, err) })
}

func (c classFetch) stats(code, secret string, done func(classStats, error)) {
	var s classStats
	c.call("GET", classPath(code, "stats"), secret, nil, &s, func(err error) { done(s, err) })
}

// allPicks reads JSON Lines, not one JSON value: the body is handed over as it is.
func (c classFetch) allPicks(code, secret string, done func([]byte, error)) {
	fetchText(c.ctx, "GET", classPath(code, "picks"), secret, nil, func(status int, retry string, data []byte, err error) {
		if err == nil {
			err = classAnswer(status, retry, data, nil)
		}
		if err != nil {
			data = nil
		}
		done(data, err)
	})
}

// underPrefix puts an absolute path under the sub-path the page is served from (a static site
// under /pretune/ asks /pretune/api/class, which a static host answers with its 404 page): no
// request leaves the page's own prefix. go-app resolves only /web/ paths, so the prefix is read
// from one.
func underPrefix(ctx app.Context, path string) string {
	const probe = "/web/"
	return strings.TrimSuffix(ctx.ResolveStaticResource(probe), probe) + path
}
