# Reads the output of `tshark -q -z follow,tcp,raw,N` (one TCP connection: hex lines, the
# second direction's indented by a tab) and walks each direction's byte stream as a sequence
# of TLS records: content type 20-23 (hex 14-17), version 3.1-3.4, length <= 2^14 + 256.
# Prints "ok BYTES_SENT BYTES_RECEIVED" when both directions are records from their first
# byte to their end (the last record may be cut by the end of the connection), else
# "not TLS: direction D, byte OFFSET, REASON". mawk-compatible (Debian's default awk).
function hexval(s,    i, v) {
  v = 0
  for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
  return v
}
function walk(hex, dir,    p, n, t, v, len) {
  n = length(hex); p = 1
  while (p <= n) {
    if (p + 9 > n) return "ok"  # a record header cut by the end of the connection
    t = substr(hex, p, 2); v = substr(hex, p + 2, 4)
    if (t !~ /^1[4-7]$/) return sprintf("not TLS: direction %d, byte %d, content type 0x%s", dir, (p - 1) / 2, t)
    if (v !~ /^030[1-4]$/) return sprintf("not TLS: direction %d, byte %d, version 0x%s", dir, (p - 1) / 2, v)
    len = hexval(substr(hex, p + 6, 4))
    if (len > 16384 + 256) return sprintf("not TLS: direction %d, byte %d, record length %d", dir, (p - 1) / 2, len)
    p += 10 + 2 * len
  }
  return "ok"
}
/^$/ || /^=+$/ || /^Follow:/ || /^Filter:/ || /^Node [01]:/ { next }
/^\t/ { s = $0; gsub(/[ \t]/, "", s); h1 = h1 s; next }
/^[0-9a-f]+$/ { h0 = h0 $0; next }
{ bad = bad " unexpected line " NR }
END {
  if (bad != "") { print "not TLS:" bad; exit }
  r = walk(h0, 0); if (r == "ok") r = walk(h1, 1)
  if (r == "ok") printf "ok %d %d\n", length(h0) / 2, length(h1) / 2; else print r
}
