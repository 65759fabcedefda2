package tokens

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/config"
)

// Keys is the key material from configuration (docs/architecture.md §8): the
// signing and sealing keys, each with an optional previous key for rotation.
type Keys struct {
	Signing, SigningPrev *SigningKey
	Sealing, SealingPrev *SealingKey
	// Ephemeral reports that keys were generated because none were
	// configured (the signing key on first use); tokens and sealed data die
	// with the process.
	Ephemeral bool
}

// LoadKeys parses SIGNING_KEY(_PREVIOUS) and SEALING_KEY(_PREVIOUS). When a
// current key is missing outside Azure, it generates an ephemeral one and
// logs a warning; in Azure a missing key is an error (config.Load refuses
// it already; this is defence in depth). Every problem is reported at once,
// and no error or log line contains key material.
func LoadKeys(cfg config.Config, logger *slog.Logger) (*Keys, error) {
	if logger == nil {
		logger = slog.Default()
	}
	k := &Keys{}
	var errs []error
	var err error
	if cfg.SigningKey == "" {
		// Generated on first use: RSA key generation would slow start-up.
		k.Signing, err = ephemeral(cfg.InAzure, func() (*SigningKey, error) { return EphemeralSigningKey(), nil })
	} else {
		k.Signing, err = ParseSigningKey(cfg.SigningKey)
	}
	errs = append(errs, named(config.EnvSigningKey, err))
	if cfg.SigningKeyPrev != "" {
		k.SigningPrev, err = ParseSigningKey(cfg.SigningKeyPrev)
		errs = append(errs, named(config.EnvSigningKeyPrevious, err))
	}
	if cfg.SealingKey == "" {
		k.Sealing, err = ephemeral(cfg.InAzure, GenerateSealingKey)
	} else {
		k.Sealing, err = ParseSealingKey(cfg.SealingKey)
	}
	errs = append(errs, named(config.EnvSealingKey, err))
	if cfg.SealingKeyPrev != "" {
		k.SealingPrev, err = ParseSealingKey(cfg.SealingKeyPrev)
		errs = append(errs, named(config.EnvSealingKeyPrevious, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	k.Ephemeral = cfg.SigningKey == "" || cfg.SealingKey == ""
	if k.Ephemeral {
		logger.Warn("no signing or sealing key configured: using ephemeral keys; issued tokens and stored grants will not survive a restart and are not shared between instances",
			slog.Bool("ephemeral_signing_key", cfg.SigningKey == ""),
			slog.Bool("ephemeral_sealing_key", cfg.SealingKey == ""))
	}
	logger.Info("keys loaded",
		slog.Any("signing_kid", k.Signing), slog.Any("previous_signing_kid", k.SigningPrev),
		slog.Any("sealing_kid", k.Sealing), slog.Any("previous_sealing_kid", k.SealingPrev))
	return k, nil
}

// Issuer builds the access-token issuer for cfg from the signing keys.
func (k *Keys) Issuer(cfg config.Config) (*Issuer, error) {
	return NewIssuer(cfg, k.Signing, k.SigningPrev)
}

// Sealer builds the sealer from the sealing keys.
func (k *Keys) Sealer() (*Sealer, error) { return NewSealer(k.Sealing, k.SealingPrev) }

func ephemeral[K any](inAzure bool, gen func() (K, error)) (K, error) {
	if inAzure {
		var zero K
		return zero, errors.New("required in Azure (ephemeral keys are for local runs only)")
	}
	return gen()
}

func named(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}
