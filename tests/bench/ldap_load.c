/* A small LDAP load generator on libldap (the client library both servers are used with):
 * N threads, each with one kept connection, run one kind of operation for T seconds.
 *
 *   ldap_load URL MODE N T FILE [BASE] [FILTER]
 *     MODE  uid     search BASE subtree for (uid=X), X from FILE (one login per line), attrs cn mail
 *           filter  search BASE subtree for FILTER (size limit 100, as Thunderbird asks), attrs cn mail
 *           bind    simple bind as uid=X,ou=people,BASE with the password in $LDAP_LOAD_PW
 *   Search modes bind first as $LDAP_LOAD_DN / $LDAP_LOAD_PW. Logins are taken in order, each
 *   thread from its own offset, so a bind run with FILE longer than the run never repeats one.
 *   Prints one JSON line: operations, seconds, ops/s, errors, entries per search.
 *
 *   ldap_load hash PASSWORD     prints {ARGON2}$argon2id$v=19$m=19456,t=2,p=1$... (libargon2)
 */
#include <argon2.h>
#include <ldap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *url, *mode, *base, *filter;
static char **logins;
static size_t nlogins;
static int nthreads;
static double seconds;
static atomic_long total_ops, total_errors, total_entries;
static atomic_int stop;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static LDAP *connect_to(void) {
  LDAP *ld = NULL;
  if (ldap_initialize(&ld, url) != LDAP_SUCCESS) return NULL;
  int v3 = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
  return ld;
}

static int simple_bind(LDAP *ld, const char *dn, const char *pw) {
  struct berval cred = {strlen(pw), (char *)pw};
  return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
}

static void *worker(void *arg) {
  long id = (long)arg;
  LDAP *ld = connect_to();
  if (!ld) {
    atomic_fetch_add(&total_errors, 1);
    return NULL;
  }
  const char *pw = getenv("LDAP_LOAD_PW");
  if (strcmp(mode, "bind") != 0 && simple_bind(ld, getenv("LDAP_LOAD_DN"), pw) != LDAP_SUCCESS) {
    atomic_fetch_add(&total_errors, 1);
    return NULL;
  }
  char *attrs[] = {"cn", "mail", NULL};
  char buf[512];
  size_t next = (size_t)id * (nlogins / (size_t)nthreads);
  long ops = 0, errors = 0, entries = 0;
  while (!atomic_load(&stop)) {
    const char *login = logins[next++ % nlogins];
    int rc;
    if (strcmp(mode, "bind") == 0) {
      snprintf(buf, sizeof buf, "uid=%s,ou=people,%s", login, base);
      rc = simple_bind(ld, buf, pw);
    } else {
      LDAPMessage *res = NULL;
      const char *f = filter;
      if (strcmp(mode, "uid") == 0) {
        snprintf(buf, sizeof buf, "(uid=%s)", login);
        f = buf;
      }
      rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, f, attrs, 0, NULL, NULL, NULL, 100, &res);
      if (res) {
        entries += ldap_count_entries(ld, res);
        ldap_msgfree(res);
      }
      if (rc == LDAP_SIZELIMIT_EXCEEDED) rc = LDAP_SUCCESS;
    }
    if (rc == LDAP_SUCCESS) ops++;
    else errors++;
  }
  ldap_unbind_ext_s(ld, NULL, NULL);
  atomic_fetch_add(&total_ops, ops);
  atomic_fetch_add(&total_errors, errors);
  atomic_fetch_add(&total_entries, entries);
  return NULL;
}

static int hash(const char *password) {
  static const char salt[] = "congvu-bench-salt";
  char encoded[256];
  int rc = argon2id_hash_encoded(2, 19456, 1, password, strlen(password), salt, sizeof salt - 1, 32, encoded,
                                 sizeof encoded);
  if (rc != ARGON2_OK) return 1;
  printf("{ARGON2}%s\n", encoded);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "hash") == 0) return hash(argv[2]);
  if (argc < 6) {
    fprintf(stderr, "usage: ldap_load URL uid|filter|bind N SECONDS FILE [BASE] [FILTER]\n");
    return 2;
  }
  url = argv[1];
  mode = argv[2];
  nthreads = atoi(argv[3]);
  seconds = atof(argv[4]);
  base = argc > 6 ? argv[6] : "dc=tinhmau,dc=test";
  filter = argc > 7 ? argv[7] : "(objectClass=*)";
  FILE *f = fopen(argv[5], "r");
  if (!f) {
    perror(argv[5]);
    return 1;
  }
  size_t cap = 1024;
  logins = malloc(cap * sizeof *logins);
  char line[256];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!*line) continue;
    if (nlogins == cap) logins = realloc(logins, (cap *= 2) * sizeof *logins);
    logins[nlogins++] = strdup(line);
  }
  fclose(f);
  if (nlogins == 0 || nthreads < 1) return 2;
  pthread_t *t = calloc((size_t)nthreads, sizeof *t);
  double t0 = now();
  for (long i = 0; i < nthreads; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  struct timespec d = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
  nanosleep(&d, NULL);
  atomic_store(&stop, 1);
  for (int i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
  double elapsed = now() - t0;
  long ops = atomic_load(&total_ops);
  printf("{\"mode\": \"%s\", \"connections\": %d, \"ops\": %ld, \"seconds\": %.3f, \"ops_per_s\": %.1f, "
         "\"errors\": %ld, \"entries_per_search\": %.2f}\n",
         mode, nthreads, ops, elapsed, ops / elapsed, atomic_load(&total_errors),
         ops ? (double)atomic_load(&total_entries) / (double)ops : 0.0);
  return 0;
}
