package entraemu

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// SignIn does what a person does in a browser: it loads authorizeURL, picks
// the user with the given UPN on the sign-in page and submits the form. It
// returns the Location of the final redirect: the client's redirect URI
// with code and state, or with error parameters if the emulator redirected
// an error. An error page or a network failure is returned as an error.
//
// client must trust the emulator; its redirect policy is not used (SignIn
// never follows redirects, since the redirect URI usually has no server).
func SignIn(client *http.Client, authorizeURL, upn string) (string, error) {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(authorizeURL)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode == http.StatusFound {
		return resp.Header.Get("Location"), nil
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("authorize answered %s: %s", resp.Status, pageText(body))
	}
	form, err := parseSignInForm(body, upn)
	if err != nil {
		return "", err
	}
	action, err := resp.Request.URL.Parse(form.action)
	if err != nil {
		return "", err
	}
	resp, err = c.PostForm(action.String(), form.values)
	if err != nil {
		return "", err
	}
	body, _ = io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("sign-in answered %s: %s", resp.Status, pageText(body))
	}
	return resp.Header.Get("Location"), nil
}

type signInForm struct {
	action string
	values url.Values
}

// parseSignInForm reads the form's action and hidden fields and adds the
// value of the button for upn, as a browser submits the clicked button.
func parseSignInForm(page []byte, upn string) (signInForm, error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return signInForm{}, err
	}
	f := signInForm{values: url.Values{}}
	found := false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			a := attrs(n)
			switch {
			case n.Data == "form":
				f.action = a["action"]
			case n.Data == "input" && a["type"] == "hidden":
				f.values.Add(a["name"], a["value"])
			case n.Data == "button" && a["name"] == "user" && strings.EqualFold(a["value"], upn):
				f.values.Set("user", a["value"])
				found = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !found {
		return f, fmt.Errorf("sign-in page lists no user %q", upn)
	}
	return f, nil
}

func attrs(n *html.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

// pageText extracts the error text of an emulator error page (or the start
// of any other body) for an error message.
func pageText(body []byte) string {
	doc, err := html.Parse(strings.NewReader(string(body)))
	if err != nil {
		return string(body)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "p" {
			for _, a := range n.Attr {
				if a.Key == "id" && a.Val == "error-message" && n.FirstChild != nil {
					b.WriteString(n.FirstChild.Data)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if b.Len() == 0 {
		s := string(body)
		if len(s) > 300 {
			s = s[:300]
		}
		return s
	}
	return b.String()
}
