# Varnish 7.1 as a caching reverse proxy under test (the cache scenarios only: Varnish has no TLS).
# Started by the bench as
#   varnishd -F -j none -n @PREFIX@/varnish -a 127.0.0.1:@PORT@ -f THIS -s malloc,@VARNISH_STORAGE@
#            -p thread_pools=1 -T none
# (unprivileged, no jail, its working directory in the server's own directory, one thread pool
# as the others have one event loop). Everything else is Varnish's built-in VCL: it honours the
# backend's Cache-Control, coalesces concurrent misses for one object (its waiting list), and adds
# X-Forwarded-For itself. The slow counting backend of cold-stampede under /slow/.
vcl 4.1;

backend origin {
    .host = "127.0.0.1";
    .port = "@ORIGIN_PORT@";
}

backend slow {
    .host = "127.0.0.1";
    .port = "@SLOW_PORT@";
    .first_byte_timeout = 30s;
}

sub vcl_recv {
    # What an app behind a proxy needs, as gatehouse always sends it.
    set req.http.X-Forwarded-Proto = "http";
    set req.http.X-Forwarded-Host = req.http.host;
    if (req.url ~ "^/slow/") {
        set req.backend_hint = slow;
    } else {
        set req.backend_hint = origin;
    }
}
