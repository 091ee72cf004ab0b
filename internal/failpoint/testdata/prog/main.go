// Command prog passes two failpoints, for TestHitKills.
package main

import (
	"fmt"

	"github.com/modelgate/modelgate/internal/failpoint"
)

func main() {
	failpoint.Hit(failpoint.EffectDone, "never armed")
	fmt.Println("passed")
	failpoint.Hit(failpoint.LookJudged, "7")
	fmt.Println("survived")
}
