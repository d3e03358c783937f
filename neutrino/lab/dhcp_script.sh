#!/bin/sh
# udhcpc event script for neutrino lab instances (busybox udhcpc -s <this script>).
#
# Runs inside the instance's network namespace (udhcpc was started with `ip netns exec`),
# so every `ip` command below changes that namespace only.  It never writes
# /etc/resolv.conf: DNS servers go to $NEUTRINO_RESOLV_CONF, which must be
# /etc/netns/<ns>/resolv.conf (the file `ip netns exec` bind-mounts over /etc/resolv.conf).
#
# Events ($1): deconfig, bound, renew, leasefail, nak.  On bound/renew busybox exports
# interface, ip, mask (prefix length), subnet, router, dns, domain, mtu, lease, serverid
# and staticroutes ("dest/len gw dest/len gw ...", option 121).  Per RFC 3442 the router
# option is ignored when option 121 is present.  Routes we add carry `proto dhcp`, so a
# renewal can replace exactly them.  The lease is also written, as key=value lines, to
# $NEUTRINO_LEASE_FILE (atomically) for the caller to read.

set -u
event="${1:-}"
: "${interface:?udhcpc did not set interface}"
resolv="${NEUTRINO_RESOLV_CONF:-}"
lease_file="${NEUTRINO_LEASE_FILE:-}"

log() { echo "dhcp-script[$event]: $*" >&2; }

case "$resolv" in
    /etc/netns/?*/resolv.conf)
        if [ -L "$resolv" ]; then log "refusing symlink $resolv"; resolv=""; fi ;;
    "") ;;
    *) log "refusing to write DNS servers to '$resolv'"; resolv="" ;;
esac

set_address() {
    want="$ip/${mask:-32}"
    for old in $(ip -4 -o addr show dev "$interface" | awk '{print $4}'); do
        [ "$old" = "$want" ] || ip -4 addr del "$old" dev "$interface"
    done
    ip -4 addr replace "$want" broadcast + dev "$interface"
}

add_route() {  # add_route <dest> <gateway>
    dest="$1"
    [ "$dest" = 0.0.0.0/0 ] && dest=default
    if [ "$2" = 0.0.0.0 ]; then
        ip -4 route replace "$dest" dev "$interface" proto dhcp
    else
        ip -4 route replace "$dest" via "$2" dev "$interface" proto dhcp 2>/dev/null ||
            ip -4 route replace "$dest" via "$2" dev "$interface" proto dhcp onlink
    fi
}

set_routes() {
    ip -4 route flush dev "$interface" proto dhcp
    if [ -n "${staticroutes:-}" ]; then
        # shellcheck disable=SC2086 # word splitting wanted: "dest gw dest gw ..."
        set -- $staticroutes
        while [ $# -ge 2 ]; do
            add_route "$1" "$2"
            shift 2
        done
    elif [ -n "${router:-}" ]; then
        for gw in $router; do
            add_route 0.0.0.0/0 "$gw"
            break
        done
    fi
}

write_resolv() {
    [ -n "$resolv" ] || return 0
    {
        echo "# written by the neutrino lab DHCP client for $interface"
        [ -n "${domain:-}" ] && echo "search $domain"
        for server in ${dns:-}; do
            echo "nameserver $server"
        done
    } > "$resolv"  # in place: keeps the inode `ip netns exec` bind-mounts
}

write_lease() {
    [ -n "$lease_file" ] || return 0
    {
        echo "event=$event"
        echo "interface=$interface"
        echo "ip=${ip:-}"
        echo "mask=${mask:-}"
        echo "router=${router:-}"
        echo "dns=${dns:-}"
        echo "domain=${domain:-}"
        echo "mtu=${mtu:-}"
        echo "staticroutes=${staticroutes:-}"
        echo "lease=${lease:-}"
        echo "serverid=${serverid:-}"
    } > "$lease_file.tmp" && mv -f "$lease_file.tmp" "$lease_file"
}

case "$event" in
    deconfig)
        ip link set dev "$interface" up
        ip -4 route flush dev "$interface" proto dhcp
        ip -4 addr flush dev "$interface"
        ;;
    bound|renew)
        [ -n "${mtu:-}" ] && ip link set dev "$interface" mtu "$mtu"
        set_address
        set_routes
        write_resolv
        write_lease
        log "$interface $ip/${mask:-32} router=${router:-} routes=${staticroutes:-} dns=${dns:-} mtu=${mtu:-}"
        ;;
    leasefail|nak)
        log "${message:-no lease}"
        ;;
esac
exit 0
