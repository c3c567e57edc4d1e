# Metadata-only changes in a later layer (chmod, chown, touch -d) of files and
# directories; setuid/setgid/sticky modes; owners (including ids too large for the ustar
# fields); mtimes before 1970 and after 2242 (beyond ustar's 11 octal digits).
ARG BASE
FROM ${BASE}
RUN mkdir -p /m/dirmode /m/sticky /m/owned-dir && echo a > /m/chmod && echo b > /m/chown \
 && echo c > /m/touch && echo d > /m/dirmode/x && echo s > /m/suid && echo g > /m/sgid \
 && echo o > /m/owned && echo big > /m/bigid && touch -d '2001-02-03 04:05:06' /m/old \
 && echo e > /m/early && echo l > /m/late
RUN chmod 600 /m/chmod && chown 1234:5678 /m/chown && touch -d '1999-12-31 23:59:59' /m/touch \
 && chmod 700 /m/dirmode && chmod 4755 /m/suid && chmod 2710 /m/sgid && chmod 1777 /m/sticky \
 && chown 65534:65534 /m/owned && chmod 6755 /m/owned && chown 3000000:3000001 /m/bigid \
 && chown 7:8 /m/owned-dir && chmod 3750 /m/owned-dir && chmod 0 /usr/share/base/a \
 && touch -d '1960-06-01 12:00:00' /m/early && touch -d '2300-01-01 00:00:00' /m/late
RUN touch -d '2010-01-01 00:00:00' /m/dirmode && chown 42:43 /m/sticky && chmod 644 /m/suid \
 && touch -d '2005-05-05 05:05:05' /m/old /usr/share/base/b && chown 9:9 /etc/motd
