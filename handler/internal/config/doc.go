// Package config loads and validates the handler's whole configuration from
// environment variables (app settings in Azure, local.settings.json under
// `func start`). Load reports every problem at once so a misconfigured
// deployment fails on its first start with one readable error.
package config
