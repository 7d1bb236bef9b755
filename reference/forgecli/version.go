package forgecli

import (
	"fmt"
	"runtime"

	"github.com/catalyst-forge/forge/domain/config"
)

func versionLine() string {
	return fmt.Sprintf("forge %s (configuration schema %s, %s, %s/%s)",
		Version, config.SchemaVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
