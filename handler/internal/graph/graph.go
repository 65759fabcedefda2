// Package graph calls Microsoft Graph v1.0 with a delegated token obtained
// through On-Behalf-Of. Only what the tools need: /me.
package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Profile is the subset of the Graph user resource the whoami tool shows.
type Profile struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail,omitempty"`
	UserPrincipalName string `json:"userPrincipalName"`
	JobTitle          string `json:"jobTitle,omitempty"`
	Department        string `json:"department,omitempty"`
	OfficeLocation    string `json:"officeLocation,omitempty"`
}

// Client calls Graph. BaseURL is configuration (https://graph.microsoft.com,
// or the emulator locally).
type Client struct {
	BaseURL    string
	HTTPClient *http.Client
}

// Error is a Graph error answer.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("graph: %d %s: %s", e.Status, e.Code, e.Message)
}

const meSelect = "id,displayName,mail,userPrincipalName,jobTitle,department,officeLocation"

// Me returns the signed-in user's profile.
func (c *Client) Me(ctx context.Context, token string) (Profile, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/v1.0/me?$select="+meSelect, nil)
	if err != nil {
		return Profile{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return Profile{}, fmt.Errorf("graph: %w", err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 1<<20)
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.NewDecoder(body).Decode(&e)
		return Profile{}, &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	var p Profile
	if err := json.NewDecoder(body).Decode(&p); err != nil {
		return Profile{}, fmt.Errorf("graph: decode /me: %w", err)
	}
	return p, nil
}
