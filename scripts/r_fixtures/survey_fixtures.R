# Known answers of R's `survey` package (Lumley) for the design-based estimates of the barometer.
#
# Reads tests/fixtures/r_survey/<name>.csv (made by make_datasets.py) and writes
# tests/fixtures/r_survey/<name>.json. The design is stratified simple random sampling without
# replacement: svydesign(ids = ~1, strata = ~stratum, fpc = ~N); respondents outside the frame
# (stratum "autre") are not in the design. For every group of strata (ensemble,
# hors_communes_lt_3500, commune), every answer level of q1 (unfiltered), of q2 (filtered: the
# domain of those asked) and the mean of x (domain: those with a value):
#   estimate, se, deff          svymean(~y, subset(design, group & domain), deff = TRUE)
#   logit, beta intervals       svyciprop(~y, same, method = "logit" / "beta")
#   df, n                       degf(same), nrow(same)
# and per stratum (svyby(~y, ~stratum, subset(design, domain), svymean)): estimate and se.
#
# Logit and beta intervals are written as null where the estimate is 0 or 1: there R's logit
# interval is numerically degenerate (e.g. [1.6e-11, 0]) and beta's is NaN.
#
# Exact finite-population interval of a stratum (no direct function in R): k of the n
# respondents of a stratum of N give the answer; the population count K is unknown; the 95 %
# interval inverts the hypergeometric tests (Clopper-Pearson style, Buonaccorsi 1987):
#   K_low  = min { K in 0..N : P(X >= k | K) > alpha/2 }   (0 when k = 0)
#   K_high = max { K in 0..N : P(X <= k | K) > alpha/2 }   (N when k = n)
# with X ~ hypergeometric(K successes, N - K failures, n draws) = phyper(., K, N - K, n);
# the interval of the proportion is [K_low / N, K_high / N]. When n = N it is the point k / N.
#
# Run from the repository root (needs r-cran-survey and r-cran-jsonlite):
#   Rscript scripts/r_fixtures/survey_fixtures.R
suppressMessages({
  library(survey)
  library(jsonlite)
})
options(survey.lonely.psu = "fail")

dir <- file.path("tests", "fixtures", "r_survey")
alpha <- 0.05
groups_of <- function(strata) {
  frame <- unique(strata)
  list(
    ensemble = frame,
    hors_communes_lt_3500 = setdiff(frame, "commune_lt_3500"),
    commune = intersect(frame, c("commune_lt_3500", "commune_3500_10000",
                                 "commune_10000_100000", "commune_ge_100000"))
  )
}

exact_interval <- function(k, n, N, alpha = 0.05) {
  K <- 0:N
  lower <- if (k == 0) 0 else min(K[phyper(k - 1, K, N - K, n, lower.tail = FALSE) > alpha / 2])
  upper <- if (k == n) N else max(K[phyper(k, K, N - K, n) > alpha / 2])
  c(lower / N, upper / N)
}

num <- function(x) if (is.na(x) || !is.finite(x)) NULL else unname(x)

one_estimate <- function(design, formula, proportion) {
  m <- svymean(formula, design, deff = TRUE)
  est <- unname(coef(m)[1])
  out <- list(
    estimate = est,
    se = unname(SE(m)[1]),
    deff = num(deff(m)[1]),
    df = degf(design),
    n = nrow(design)
  )
  if (proportion) {
    if (est > 0 && est < 1) {
      out$logit <- unname(attr(svyciprop(formula, design, method = "logit"), "ci"))
      out$beta <- unname(attr(svyciprop(formula, design, method = "beta"), "ci"))
    } else {
      out$logit <- NULL
      out$beta <- NULL
    }
  } else {
    out$ci <- unname(as.vector(confint(m, df = degf(design))))
  }
  out
}

make <- function(name) {
  raw <- read.csv(file.path(dir, paste0(name, ".csv")), colClasses = "character",
                  na.strings = character(0), encoding = "UTF-8")
  data <- raw[raw$stratum != "autre", ]
  data$N <- as.numeric(data$N)
  data$x <- suppressWarnings(as.numeric(data$x))
  levels1 <- c("Oui", "Non", "Je ne sais pas", "Autre", "")
  levels2 <- c("Oui", "Non", "")
  for (i in seq_along(levels1)) data[[paste0("y1_", i)]] <- as.numeric(data$q1 == levels1[i])
  for (i in seq_along(levels2)) data[[paste0("y2_", i)]] <- as.numeric(data$q2 == levels2[i])
  data$asked2 <- data$q2 != "NA"
  data$hasx <- !is.na(data$x)
  des <- svydesign(ids = ~1, strata = ~stratum, fpc = ~N, data = data)

  variables <- list()
  for (i in seq_along(levels1)) {
    variables[[length(variables) + 1]] <- list(question = "q1", option = levels1[i],
      column = paste0("y1_", i), domain = NULL, proportion = TRUE)
  }
  for (i in seq_along(levels2)) {
    variables[[length(variables) + 1]] <- list(question = "q2", option = levels2[i],
      column = paste0("y2_", i), domain = "asked2", proportion = TRUE)
  }
  variables[[length(variables) + 1]] <- list(question = "x", option = "moyenne",
    column = "x", domain = "hasx", proportion = FALSE)

  groups <- groups_of(data$stratum)
  estimates <- list()
  strata <- list()
  for (v in variables) {
    formula <- as.formula(paste0("~", v$column))
    inside <- if (is.null(v$domain)) rep(TRUE, nrow(data)) else data[[v$domain]]
    for (g in names(groups)) {
      members <- groups[[g]]
      if (length(members) == 0) next
      keep <- data$stratum %in% members & inside
      if (!any(keep)) next
      d <- des[keep, ]
      e <- one_estimate(d, formula, v$proportion)
      estimates[[length(estimates) + 1]] <- c(list(question = v$question, option = v$option,
                                                  group = g), e)
    }
    by <- svyby(formula, ~stratum, des[inside, ], svymean)
    for (s in rownames(by)) {
      sel <- data$stratum == s & inside
      row <- list(question = v$question, option = v$option, stratum = s,
                  estimate = unname(coef(by))[match(s, rownames(by))],
                  se = unname(SE(by))[match(s, rownames(by))],
                  n = sum(sel), N = unname(data$N[data$stratum == s][1]))
      if (v$proportion) {
        row$k <- sum(data[[v$column]][sel])
        if (is.null(v$domain)) row$exact <- exact_interval(row$k, row$n, row$N)
      }
      strata[[length(strata) + 1]] <- row
    }
  }
  # Exact intervals of the 2023 shapes named in the issue, and edge cases.
  cases <- list(c(7, 18, 21), c(0, 9, 31762), c(9, 9, 31762), c(2, 9, 31762), c(18, 18, 18),
                c(0, 18, 18), c(5, 10, 18), c(0, 1, 2), c(1, 1, 2), c(3, 33, 1233),
                c(0, 2, 31762), c(1, 2, 31762), c(12, 25, 101))
  exact <- lapply(cases, function(x) list(k = x[1], n = x[2], N = x[3],
                                          interval = exact_interval(x[1], x[2], x[3])))
  out <- list(dataset = paste0(name, ".csv"), survey = as.character(packageVersion("survey")),
              R = R.version.string, alpha = alpha, estimates = estimates, strata = strata,
              exact = exact)
  path <- file.path(dir, paste0(name, ".json"))
  writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), path)
  cat("wrote", path, "\n")
}

for (name in c("shaped", "random", "small")) make(name)
