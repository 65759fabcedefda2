package doctor

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// openBrowser opens u the way command-line tools conventionally do: each
// command of $BROWSER (a list separated like PATH; "%s" stands for the URL,
// which is appended otherwise), then the desktop's opener when a display
// exists. It never waits for the browser and a missing browser is not a
// failure: the URL is printed for the user either way.
func openBrowser(u string) error {
	if env := os.Getenv("BROWSER"); env != "" {
		for _, cmd := range strings.Split(env, string(os.PathListSeparator)) {
			if start(browserArgs(cmd, u)) == nil {
				return nil
			}
		}
	}
	switch {
	case runtime.GOOS == "darwin":
		return start([]string{"open", u})
	case runtime.GOOS == "windows":
		return start([]string{"rundll32", "url.dll,FileProtocolHandler", u})
	case os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "":
		// Without a display xdg-open may start a text browser in this
		// terminal, so it is only tried with one.
		return start([]string{"xdg-open", u})
	}
	return errors.New("no browser: $BROWSER is not set and there is no display")
}

// browserArgs splits one $BROWSER command and puts the URL in.
func browserArgs(cmd, u string) []string {
	args := strings.Fields(cmd)
	replaced := false
	for i, a := range args {
		if strings.Contains(a, "%s") {
			args[i] = strings.ReplaceAll(a, "%s", u)
			replaced = true
		}
	}
	if !replaced {
		args = append(args, u)
	}
	return args
}

func start(args []string) error {
	if len(args) == 0 || args[0] == "" {
		return errors.New("empty command")
	}
	c := exec.Command(args[0], args[1:]...)
	c.Stdout, c.Stderr = os.Stderr, os.Stderr
	if err := c.Start(); err != nil {
		return err
	}
	go func() { _ = c.Wait() }() // reap it; its outcome shows in the callback
	return nil
}
