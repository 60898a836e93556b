#!/bin/sh
# A systemd user manager's own cgroup, named NAME: a user manager takes the cgroup it starts
# in as its root, so two started from the same one share their units' cgroups
# (app.slice/berth-APP.service, app.slice/berth.service), and stopping a unit in one kills the
# other's unit of the same name. Run in a private mount namespace; systemd's v1 hierarchy
# where there is one, and the v2 one (mounted for the moment if it is not), since systemd
# reads its place from either.
#   own-cgroup.sh NAME join CMD [ARG…]   move this process into the cgroup, then exec CMD
#   own-cgroup.sh NAME remove            remove the cgroup (once nothing runs in it)
set -u
name=$1 action=$2
shift 2
v2=/sys/fs/cgroup mounted=
if [ ! -f $v2/cgroup.controllers ]; then
  v2=/sys/fs/cgroup/unified
  if [ ! -f $v2/cgroup.controllers ]; then
    v2=$(mktemp -d) && mount -t cgroup2 none "$v2" && mounted=$v2 || { rmdir "$v2"; v2=; }
  fi
fi
for h in /sys/fs/cgroup/systemd "$v2"; do
  [ -n "$h" ] && [ -d "$h" ] || continue
  if [ "$action" = join ]; then mkdir -p "$h/$name" && echo $$ > "$h/$name/cgroup.procs" || exit 1
  else find "$h/$name" -depth -type d -exec rmdir {} + 2>/dev/null; fi
done
[ -z "$mounted" ] || { umount "$mounted" && rmdir "$mounted"; }
[ "$action" = join ] && exec "$@"
exit 0
