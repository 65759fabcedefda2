package tokens

import (
	"errors"
	"fmt"
	"log/slog"
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

// KeySettings is the key material as configured: each value PEM or base64
// text ("" when unset) under the name of the setting it came from, which
// errors name.
type KeySettings struct {
	Signing, SigningPrev, Sealing, SealingPrev Setting
	// Required makes a missing current key an error instead of an
	// ephemeral one (in Azure).
	Required bool
}

// Setting is one configured value and the name of its setting.
type Setting struct{ Name, Value string }

// LoadKeys parses the four keys (SIGNING_KEY, SEALING_KEY and their
// _PREVIOUS slots). When a current key is missing and not Required, it
// generates an ephemeral one and logs a warning; in Azure a missing key is
// an error (config.Load refuses it already; this is defence in depth).
// Every problem is reported at once, and no error or log line contains key
// material.
func LoadKeys(cfg KeySettings, logger *slog.Logger) (*Keys, error) {
	if logger == nil {
		logger = slog.Default()
	}
	k := &Keys{}
	var errs []error
	var err error
	if cfg.Signing.Value == "" {
		// Generated on first use: RSA key generation would slow start-up.
		k.Signing, err = ephemeral(cfg.Required, func() (*SigningKey, error) { return EphemeralSigningKey(), nil })
	} else {
		k.Signing, err = ParseSigningKey(cfg.Signing.Value)
	}
	errs = append(errs, named(cfg.Signing.Name, err))
	if cfg.SigningPrev.Value != "" {
		k.SigningPrev, err = ParseSigningKey(cfg.SigningPrev.Value)
		errs = append(errs, named(cfg.SigningPrev.Name, err))
	}
	if cfg.Sealing.Value == "" {
		k.Sealing, err = ephemeral(cfg.Required, GenerateSealingKey)
	} else {
		k.Sealing, err = ParseSealingKey(cfg.Sealing.Value)
	}
	errs = append(errs, named(cfg.Sealing.Name, err))
	if cfg.SealingPrev.Value != "" {
		k.SealingPrev, err = ParseSealingKey(cfg.SealingPrev.Value)
		errs = append(errs, named(cfg.SealingPrev.Name, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	k.Ephemeral = cfg.Signing.Value == "" || cfg.Sealing.Value == ""
	if k.Ephemeral {
		logger.Warn("no signing or sealing key configured: using ephemeral keys; issued tokens and stored grants will not survive a restart and are not shared between instances",
			slog.Bool("ephemeral_signing_key", cfg.Signing.Value == ""),
			slog.Bool("ephemeral_sealing_key", cfg.Sealing.Value == ""))
	}
	logger.Info("keys loaded",
		slog.Any("signing_kid", k.Signing), slog.Any("previous_signing_kid", k.SigningPrev),
		slog.Any("sealing_kid", k.Sealing), slog.Any("previous_sealing_kid", k.SealingPrev))
	return k, nil
}

// Issuer builds the access-token issuer from the signing keys.
func (k *Keys) Issuer(opts IssuerOptions) (*Issuer, error) {
	return NewIssuer(opts, k.Signing, k.SigningPrev)
}

// Sealer builds the sealer from the sealing keys.
func (k *Keys) Sealer() (*Sealer, error) { return NewSealer(k.Sealing, k.SealingPrev) }

func ephemeral[K any](required bool, gen func() (K, error)) (K, error) {
	if required {
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
