package main

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/presswork/presswork/internal/auth"
)

// TestHelpWithoutConfiguration (#20): every command's -h prints its flags
// and succeeds without the env file (no SECRET_KEY, no database); a flag
// error is named as one, not as a configuration error. The test is not
// parallel: it empties SECRET_KEY for its own run.
func TestHelpWithoutConfiguration(t *testing.T) {
	t.Setenv("SECRET_KEY", "")
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"tenant", "create", "-h"}, []string{"-name", "-slug", "-plan", "free, starter, pro, agency", "-credits"}},
		{[]string{"tenant", "create", "--help"}, []string{"-slug"}},
		{[]string{"tenant", "plan", "-h"}, []string{"-tenant", "-plan"}},
		{[]string{"credits", "grant", "-h"}, []string{"-tenant", "-amount", "-note"}},
		{[]string{"operator-key", "create", "-h"}, []string{"-name"}},
		{[]string{"user", "create", "-h"}, []string{"-tenant", "-email", "-role"}},
		{[]string{"secrets", "rotate", "-h"}, []string{"-batch"}},
		{[]string{"secrets", "check", "-h"}, []string{"-batch"}},
		{[]string{"demo", "-h"}, []string{"-keywords", "-ideas", "-publish"}},
		{[]string{"queue", "help"}, []string{"usage: presswork queue"}},
		{[]string{"models", "help"}, []string{"usage: presswork models"}},
		{[]string{"plans", "help"}, []string{"usage: presswork plans"}},
		{[]string{"packs", "help"}, []string{"usage: presswork packs"}},
		{[]string{"plans", "set", "-h"}, []string{"-plan", "-price", "-credits", "-bulk-inflight"}},
		{[]string{"packs", "add", "-h"}, []string{"-name", "-price", "-credits"}},
		{[]string{"models", "add", "-h"}, []string{"-provider", "-model", "-kind", "-batch-input", "-multiplier"}},
		{[]string{"models", "route", "-h"}, []string{"-stage", "-fallbacks", "-on-throttle"}},
		{[]string{"queue", "list", "-h"}, []string{"-queue", "-state", "-limit"}},
	} {
		var out bytes.Buffer
		if err := run(ctx, tc.args, &out); err != nil {
			t.Errorf("presswork %s: %v\n%s", strings.Join(tc.args, " "), err, out.String())
			continue
		}
		for _, want := range tc.want {
			if !strings.Contains(out.String(), want) {
				t.Errorf("presswork %s does not say %q:\n%s", strings.Join(tc.args, " "), want, out.String())
			}
		}
	}

	var out bytes.Buffer
	err := run(ctx, []string{"tenant", "create", "-nmae", "x"}, &out)
	if err == nil || !strings.Contains(err.Error(), "flag provided but not defined: -nmae") {
		t.Errorf("tenant create -nmae: %v, want the flag error", err)
	}
	// With its flags right, the command does need the configuration.
	err = run(ctx, []string{"tenant", "create", "-name", "X", "-slug", "x"}, &out)
	if err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
		t.Errorf("tenant create without SECRET_KEY: %v, want a configuration error naming SECRET_KEY", err)
	}
}

// TestTenantCreateAsDocumented (#20): the README and the `make run` banner
// show the same "tenant create" command, and its -plan is a plan the
// command takes.
func TestTenantCreateAsDocumented(t *testing.T) {
	t.Parallel()
	var lines []string
	for _, file := range []string{"../../README.md", "../../scripts/run.sh"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, line, ok := strings.Cut(string(raw), "bin/presswork tenant create ")
		if !ok {
			t.Fatalf("%s shows no bin/presswork tenant create", file)
		}
		line, _, _ = strings.Cut(line, "\n")
		// The README's walkthrough pipes the command on to read the key.
		lines = append(lines, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), "|")))
	}
	if lines[0] != lines[1] {
		t.Errorf("README: tenant create %s\nmake run: tenant create %s", lines[0], lines[1])
	}
	_, plan, _ := strings.Cut(lines[0], "-plan ")
	plan, _, _ = strings.Cut(plan, " ")
	if !slices.Contains(auth.Plans, plan) {
		t.Errorf("the README's tenant create has -plan %q, not one of %v", plan, auth.Plans)
	}
}
