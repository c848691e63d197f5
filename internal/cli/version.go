package cli

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"
