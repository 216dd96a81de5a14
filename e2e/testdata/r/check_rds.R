# Rscript check_rds.R FILE.rds ...
# For each .rds file: readRDS() it, then print one line
#   sha <TAB> file <TAB> data_sha (datom-cv1 computed in R) <TAB> nrow <TAB> compact row names
# and per column
#   col <TAB> file <TAB> name <TAB> typeof <TAB> class/… <TAB> tzone <TAB> units <TAB> levels|…
# Base R and digest only (no arrow).
args <- commandArgs(trailingOnly = TRUE)
here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1]))
source(file.path(here, "datom_cv1.R"))
stopifnot(cv1_sha256(charToRaw("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
or_empty <- function(x) if (is.null(x)) "" else paste(x, collapse = "|")
for (f in args) {
  d <- readRDS(f)
  stopifnot(is.data.frame(d))
  compact <- identical(.row_names_info(d, type = 0L), c(NA_integer_, -nrow(d)))
  cat("sha", f, cv1_data_sha(d), nrow(d), compact, sep = "\t")
  cat("\n")
  for (i in seq_along(d)) {
    x <- d[[i]]
    cat("col", f, names(d)[i], typeof(x), paste(class(x), collapse = "/"),
      or_empty(attr(x, "tzone")), or_empty(attr(x, "units")), or_empty(levels(x)), sep = "\t")
    cat("\n")
  }
}
