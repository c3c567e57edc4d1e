# Names longer than 100 bytes (ustar's name field) and 255 bytes (PAX/GNU long names),
# exactly 100 bytes, long link names; non-UTF-8 names (\xff, latin-1), names with spaces,
# newlines and UTF-8; deleting and making opaque directories with such names.
ARG BASE
FROM ${BASE}
RUN set -e; l98=$(printf 'x%.0s' $(seq 1 98)); l200=$(printf 'y%.0s' $(seq 1 200)); \
 l250=$(printf 'z%.0s' $(seq 1 250)); mkdir -p /n && cd /n && echo 100 > "$l98" \
 && mkdir -p "$l200/$l200/$l200" && echo deep > "$l200/$l200/$l200/$l250" \
 && echo gone > "$l250" && echo keep > "k$l200" && ln "k$l200" "$l200/$l200/hard-$l200" \
 && ln -s "$l200/$l200/$l200/$l250" "sym-to-long" && mkdir "$(printf 'd\xff')" \
 && echo ff > "$(printf '\xff')" && echo e9 > "$(printf 'caf\xe9')" && echo u > "$(printf 'caf\xc3\xa9 \xe2\x9c\x93')" \
 && echo sp > "with space" && echo nl > "$(printf 'new\nline')" && echo x > "$(printf 'd\xff')/in" \
 && echo y > "$(printf 'd\xff/gone\xfe')"
RUN set -e; l200=$(printf 'y%.0s' $(seq 1 200)); l250=$(printf 'z%.0s' $(seq 1 250)); cd /n \
 && rm "$l250" && rm "$(printf '\xff')" && echo new > "$(printf 'caf\xe9')" \
 && rm -rf "$(printf 'd\xff')" && mkdir "$(printf 'd\xff')" && echo o > "$(printf 'd\xff')/opaque" \
 && rm -rf "$l200/$l200/$l200" && mkdir "$l200/$l200/$l200" && echo o > "$l200/$l200/$l200/o"
