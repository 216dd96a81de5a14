# datom-cv1 in base R (+ digest for SHA-256), written from the format
# contract (shared/spec/datom-format.md, section 4.1), not from datom's
# sources: the data_sha of a data frame as datom computes it. Used by the
# e2e tests to check that readRDS() of a datomfs .rds rendition gives back
# the data whose identity the version records.

cv1_sha256 <- function(bytes) digest::digest(bytes, algo = "sha256", serialize = FALSE)

cv1_f64le <- function(x) writeBin(as.double(x), raw(), size = 8L, endian = "little")

# Step 1: the kind tag of a column (first matching rule wins).
cv1_kind <- function(x) {
  if (inherits(x, "integer64")) return("i64")
  if (inherits(x, "factor")) return("chr")
  if (inherits(x, "Date")) return("date")
  if (inherits(x, "POSIXct")) return("time")
  if (inherits(x, "difftime")) return("drtn")
  if (inherits(x, "ITime")) return("drtn")
  if (inherits(x, c("haven_labelled", "labelled", "labelled_spss"))) {
    attributes(x) <- NULL
    return(cv1_kind(x))
  }
  if (!is.null(attr(x, "class"))) {
    stop("column class ", paste(class(x), collapse = "/"), " is not hashable")
  }
  if (is.logical(x) || is.integer(x) || is.double(x)) return("num")
  if (is.character(x)) return("chr")
  stop("column type ", typeof(x), " is not hashable")
}

# The numeric encoding: 8 bytes f64le per value; R's NA (a NaN whose low
# word is 1954) verbatim, any other NaN as 0x7FF8000000000000, -0 as +0,
# everything else bit-exact.
cv1_num <- function(x) {
  if (is.logical(x) || is.integer(x)) x <- as.double(x) # NA becomes NA_real_
  x <- as.double(x)
  m <- matrix(writeBin(x, raw(), size = 8L, endian = "little"), nrow = 8L)
  nan <- is.na(x)
  if (any(nan)) {
    r_na <- m[1L, ] == as.raw(0xa2) & m[2L, ] == as.raw(0x07) &
      m[3L, ] == as.raw(0x00) & m[4L, ] == as.raw(0x00)
    other <- nan & !r_na
    m[, other] <- as.raw(c(0, 0, 0, 0, 0, 0, 0xf8, 0x7f))
  }
  zero <- !nan & x == 0
  m[, zero] <- as.raw(0)
  as.vector(m)
}

# chr: an NA mask (one byte per row), then each value's UTF-8 bytes and a
# 0x00 (NA rows: only the 0x00). Factors give their level labels.
cv1_chr <- function(x) {
  v <- if (is.factor(x)) as.character(x) else x
  na <- is.na(v)
  vals <- lapply(seq_along(v), function(i) {
    if (na[i]) as.raw(0) else c(charToRaw(enc2utf8(v[i])), as.raw(0))
  })
  c(as.raw(as.integer(na)), unlist(vals, use.names = FALSE))
}

# i64: the int64 bits as stored by bit64 (in a double), verbatim.
cv1_i64 <- function(x) writeBin(unclass(x), raw(), size = 8L, endian = "little")

cv1_payload <- function(x, kind) {
  switch(kind,
    num = cv1_num(x),
    chr = cv1_chr(x),
    date = cv1_num(unclass(x)),
    time = cv1_num(unclass(x)),
    drtn = {
      units <- if (inherits(x, "ITime")) "secs" else attr(x, "units")
      c(cv1_num(unclass(x)), as.raw(0), charToRaw(enc2utf8(units)))
    },
    i64 = cv1_i64(x)
  )
}

# Step 2: one column's digest (hex).
cv1_column <- function(x, name) {
  kind <- cv1_kind(x)
  cv1_sha256(c(charToRaw(kind), charToRaw(enc2utf8(name)), as.raw(0), cv1_payload(x, kind)))
}

# Step 3: the table's data_sha.
cv1_data_sha <- function(df) {
  nr <- nrow(df)
  nc <- length(df)
  if (nr < 1L || nc < 1L) stop("data must have at least one row and one column")
  hex <- vapply(seq_len(nc), function(i) cv1_column(df[[i]], names(df)[i]), "")
  cv1_sha256(c(charToRaw("datom-cv1"), cv1_f64le(nr), cv1_f64le(nc), charToRaw(paste0(hex, collapse = ""))))
}
