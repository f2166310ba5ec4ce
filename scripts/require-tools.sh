# Sourced by the scripts: `require_tools tool...` stops with one line naming what to install, and
# where, before anything is created. Messages start with the npm script's name when there is one.
require_tools() {
  local who="${npm_lifecycle_event:-$(basename "$0")}" tool hint
  for tool in "$@"; do
    command -v "$tool" >/dev/null && continue
    case "$tool" in
      pulumi) hint="install the Pulumi CLI: https://www.pulumi.com/docs/install/ (curl -fsSL https://get.pulumi.com | sh)" ;;
      docker) hint="install Docker Engine or Docker Desktop: https://docs.docker.com/get-docker/" ;;
      *) hint="install Node.js 20 or later with npm: https://nodejs.org/" ;;
    esac
    echo "$who: '$tool' is not installed; $hint" >&2
    exit 1
  done
  case " $* " in
    *" docker "*)
      docker info >/dev/null 2>&1 || {
        echo "$who: the Docker engine does not answer ('docker info' fails); start Docker and try again" >&2
        exit 1
      }
      ;;
  esac
}
