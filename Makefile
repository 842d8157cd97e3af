# mlcycle: PGXS build.  `make`, `make install`, `make installcheck`.
EXTENSION = mlcycle
EXTVERSION = 0.1.0
MODULE_big = mlcycle
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from per-area fragments, in name order.
SQL_FRAGMENTS = $(sort $(wildcard src/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare -MMD -MP
SHLIB_LINK = -llapacke -lopenblas -lm
EXTRA_CLEAN = $(DATA_built) $(OBJS:.o=.d)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# header dependencies (gcc writes src/x.d beside src/x.o): a changed header
# rebuilds the objects that include it
-include $(OBJS:.o=.d)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_FRAGMENTS)
	cat $^ > $@
