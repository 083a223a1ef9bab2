/*
 * cmd_demo.c — `bgswitch demo`: the whole switchover, T0 to T4, on the
 * real screen against the simulated world, with nothing to set up.
 *
 * One process: the simulator serves on 127.0.0.1 from threads of this one
 * (sim_start, default world), the bundled demo config
 * (demo/bgswitch-demo.yaml, built in) is filled in with the simulator's
 * URL, CA, kubeconfig and subscription, and the engine runs it under the
 * screen (ui_run) or, with --headless, answers both gates itself and
 * prints the events as `run --headless --approve switch,teardown` does.
 *
 * Everything lives in a fresh private directory (mkdtemp, 0700): the
 * simulator's files, the config, the journal and lock (XDG_STATE_HOME
 * points there, so a demo never resumes an earlier one or touches a real
 * switchover's state) and the log.  It is removed at the end unless
 * --keep-dir.  The simulator's credential is put into this process's
 * environment only, after every AZURE_* variable of the caller's is
 * dropped: the demo must never reach a real tenant.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sim/sim.h"
#include "src/cli.h"
#include "src/engine.h"
#include "src/headless.h"
#include "src/http.h"
#include "src/log.h"
#include "src/util.h"
#include "ui/theme.h"
#include "ui/ui.h"

extern char **environ;
extern const char demo_config_yaml[];
extern const unsigned long demo_config_yaml_len;

#define DEMO_CONFIG	"bgswitch-demo.yaml"
/* The live record of the default world (demo/bgswitch-demo.yaml names it
 * too) and the TTL the demo gives it: see shorten_ttl(). */
#define DEMO_RECORD	"priv.contoso.com/A/aks"
#define DEMO_TTL_S	30

static void
demo_usage(FILE *f)
{
	fprintf(f,
	    "usage: bgswitch demo [--speed X] [--theme NAME] [--no-color] [--keep-dir] [--headless]\n\n"
	    "The switchover screen against the simulated Azure + AKS world, run inside this\n"
	    "process on 127.0.0.1: blue (aks-prod-blue, Kubernetes 1.29.7) is live, green\n"
	    "(1.30.5) is created, synced, switched to through the gateway in 10/50/100 %% steps\n"
	    "and the DNS record, and blue is deleted after a one-minute rollback window.  At\n"
	    "the default speed the walk from T0 to T4 takes about 3.5 minutes plus the time\n"
	    "spent at the two gates (confirm the switch with y; type aks-prod-blue to tear\n"
	    "it down).  Nothing outside a private temporary directory is touched.\n\n"
	    "options:\n"
	    "      --speed X       simulated seconds per real second (default: the world's, 10);\n"
	    "                      the config's soaks and window are real time and do not change\n"
	    "      --theme NAME    the screen's theme: default, light, colorblind, mono, a file in\n"
	    "                      $XDG_CONFIG_HOME/bgswitch/themes, or a path (bgswitch(1), THEMES)\n"
	    "      --no-color      no colours (as NO_COLOR does)\n"
	    "      --keep-dir      keep the temporary directory (config, simulator files, journal,\n"
	    "                      log) and print where it is\n"
	    "      --headless      no screen: JSON-lines events on stdout, both gates approved\n"
	    "                      (as run --headless --approve switch,teardown)\n"
	    "  -h, --help          this help\n\n"
	    "exit status: as bgswitch run: 0 done, 4 rolled back, 5 failed or stopped; 1 when\n"
	    "the simulator or the screen cannot start.\n");
}

/* ---- the private directory ----------------------------------------------------------- */

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void
remove_tree(const char *dir)
{
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "bgswitch demo: could not remove all of %s: %s\n", dir, strerror(errno));
}

static int
make_dir(char *dir, size_t n)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if ((size_t)snprintf(dir, n, "%s/bgswitch-demo-XXXXXX", tmp) >= n)
		return -1;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, got;
	char chunk[4096];

	if (f == NULL)
		return NULL;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		char *nb = realloc(buf, len + got + 1);

		if (nb == NULL) {
			free(buf);
			fclose(f);
			return NULL;
		}
		buf = nb;
		memcpy(buf + len, chunk, got);
		len += got;
	}
	fclose(f);
	if (buf == NULL)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	return buf;
}

/*
 * The simulator's credential, from DIR/env ("export NAME='VALUE'" lines),
 * into this process's environment.  Every AZURE_* variable the caller had
 * goes first: a certificate path or federated token file left in an
 * operator's shell must not change which credential the demo uses.
 */
static int
load_env(const char *dir, char *err, size_t errlen)
{
	char path[1100], *text, *line, *save = NULL;
	char *names[128];
	int n = 0;

	for (char **ep = environ; *ep != NULL && n < 128; ep++)
		if (strncmp(*ep, "AZURE_", 6) == 0 && strchr(*ep, '=') != NULL)
			names[n++] = strndup(*ep, (size_t)(strchr(*ep, '=') - *ep));
	for (int i = 0; i < n; i++) {
		if (names[i] != NULL)
			unsetenv(names[i]);
		free(names[i]);
	}
	snprintf(path, sizeof path, "%s/env", dir);
	if ((text = read_text(path)) == NULL) {
		util_errf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *eq, *v;
		size_t vl;

		if (strncmp(line, "export ", 7) != 0 || (eq = strchr(line + 7, '=')) == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		vl = strlen(v);
		if (vl >= 2 && v[0] == '\'' && v[vl - 1] == '\'') {
			v[vl - 1] = '\0';
			v++;
		}
		if (strncmp(line + 7, "AZURE_", 6) == 0 || strcmp(line + 7, "KUBECONFIG") == 0)
			setenv(line + 7, v, 1);
	}
	free(text);
	if (getenv("AZURE_CLIENT_SECRET") == NULL || getenv("AZURE_TENANT_ID") == NULL) {
		util_errf(err, errlen, "%s has no AZURE_TENANT_ID or AZURE_CLIENT_SECRET", path);
		return -1;
	}
	return 0;
}

/* Appends S to the buffer as a double-quoted YAML scalar. */
static void
put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * DIR/bgswitch-demo.yaml: the built-in config with each @NAME@ replaced by
 * the simulator's value, quoted (a TMPDIR may hold any character).
 */
static int
write_config(const char *dir, char *path, size_t pathlen, char *err, size_t errlen)
{
	char ep_path[1100], ca[1100], kc[1100], *ep_text;
	const char *keys[6], *vals[6];
	cJSON *ep;
	FILE *f;
	int fd;

	snprintf(ep_path, sizeof ep_path, "%s/endpoints.json", dir);
	if ((ep_text = read_text(ep_path)) == NULL || (ep = cJSON_Parse(ep_text)) == NULL) {
		util_errf(err, errlen, "cannot read %s", ep_path);
		free(ep_text);
		return -1;
	}
	free(ep_text);
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	snprintf(kc, sizeof kc, "%s/kubeconfig", dir);
	keys[0] = "BASE_URL", vals[0] = sim_base_url();
	keys[1] = "CA_FILE", vals[1] = ca;
	keys[2] = "KUBECONFIG", vals[2] = kc;
	keys[3] = "TENANT", vals[3] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ep, "tenant"));
	keys[4] = "SUBSCRIPTION",
	    vals[4] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ep, "subscription"));
	keys[5] = "RESOURCE_GROUP",
	    vals[5] = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ep, "resourceGroup"));
	for (int i = 0; i < 6; i++)
		if (vals[i] == NULL || vals[i][0] == '\0') {
			util_errf(err, errlen, "the simulator gave no %s", keys[i]);
			cJSON_Delete(ep);
			return -1;
		}

	snprintf(path, pathlen, "%s/%s", dir, DEMO_CONFIG);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0
	    || (f = fdopen(fd, "w")) == NULL) {
		util_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		cJSON_Delete(ep);
		return -1;
	}
	for (const char *s = demo_config_yaml; *s != '\0';) {
		const char *at = strchr(s, '@'), *end;
		int done = 0;

		if (at == NULL) {
			fputs(s, f);
			break;
		}
		fwrite(s, 1, (size_t)(at - s), f);
		end = strchr(at + 1, '@');
		for (int i = 0; end != NULL && i < 6 && !done; i++)
			if ((size_t)(end - at - 1) == strlen(keys[i]) && strncmp(at + 1, keys[i], strlen(keys[i])) == 0) {
				put_quoted(f, vals[i]);
				s = end + 1;
				done = 1;
			}
		if (!done) {
			fputc('@', f);
			s = at + 1;
		}
	}
	cJSON_Delete(ep);
	if (fclose(f) != 0) {
		util_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The default world's live record has a TTL of 300 s, and teardown rightly
 * waits until a resolver that cached blue's address before the switch has
 * let it go: five real minutes, since resolvers do not run on simulated
 * time.  The demo's world gives the record 30 s instead, through the
 * simulator's control endpoint (bgswitch(1), SIMULATOR CONTROL), before
 * the switchover reads it, so the walk fits in a few minutes and the
 * screen's TTL countdown is seen running out.
 */
static int
shorten_ttl(const char *dir, char *err, size_t errlen)
{
	struct http_tls tls = { 0 };
	struct http_client_config cc = { 0 };
	struct http_request rq = { 0 };
	struct http_response rs;
	struct http_client *c;
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	char ca[1100], url[512], body[64], cerr[512];
	int rc = -1;

	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	tls.ca_file = ca;
	cc.name = "demo";
	cc.tls = &tls;
	if ((c = http_client_new(&cc, cerr, sizeof cerr)) == NULL) {
		util_errf(err, errlen, "the simulator's control endpoint: %s", cerr);
		return -1;
	}
	snprintf(url, sizeof url, "%s/_sim/arm/dns/" DEMO_RECORD "/bump-etag", sim_base_url());
	snprintf(body, sizeof body, "{\"ttl\": %d}", DEMO_TTL_S);
	rq.method = "POST";
	rq.url = url;
	rq.headers = hdrs;
	rq.body = body;
	rq.body_len = strlen(body);
	if (http_do(c, &rq, &rs) != 0)
		util_errf(err, errlen, "POST %s: %s", url, rs.error);
	else if (rs.status / 100 != 2)
		util_errf(err, errlen, "POST %s: HTTP %ld: %.200s", url, rs.status, rs.body);
	else
		rc = 0;
	http_response_free(&rs);
	http_client_free(c);
	return rc;
}

/* ---- the command --------------------------------------------------------------------- */

int
cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "speed", required_argument, NULL, 's' },
		{ "theme", required_argument, NULL, 't' },
		{ "no-color", no_argument, NULL, 'N' },
		{ "keep-dir", no_argument, NULL, 'k' },
		{ "headless", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_opts so = { 0 };
	struct eng_opts eo = { 0 };
	struct ui_opts uo = { 0 };
	struct headless d;
	struct eng *e = NULL;
	const char *theme = NULL;
	int no_color = 0, keep = 0, headless = 0, c, code = CLI_EXIT_FAIL, sim_up = 0;
	char dir[512], cfg[1100], path[1100], err[1024], *end;

	headless_init(&d);
	d.approve_switch = d.approve_teardown = 1;
	d.switch_answer = "bgswitch demo --headless";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			so.speed = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(so.speed > 0 && so.speed <= 10000)) {
				fprintf(stderr, "bgswitch demo: --speed wants a number in (0, 10000], got '%s'\n", optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 't':
			theme = optarg;
			break;
		case 'N':
			no_color = 1;
			break;
		case 'k':
			keep = 1;
			break;
		case 'H':
			headless = 1;
			break;
		case 'h':
			demo_usage(stdout);
			return CLI_EXIT_OK;
		default:
			demo_usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bgswitch demo: unexpected argument '%s'\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}

	/* Before anything starts: a screen needs a terminal and its theme. */
	if (!headless) {
		struct theme t;

		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			fprintf(stderr, "bgswitch demo: the screen needs a terminal on stdin and stdout; "
			    "--headless runs the demo without one\n");
			return CLI_EXIT_FAIL;
		}
		if (theme_load(theme, no_color, &t, err, sizeof err) != 0) {
			fprintf(stderr, "bgswitch demo: %s\n", err);
			return CLI_EXIT_USAGE;
		}
	}
	if (make_dir(dir, sizeof dir) != 0) {
		fprintf(stderr, "bgswitch demo: cannot create a temporary directory: %s\n", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	/* The log: never the terminal, which the screen owns. */
	snprintf(path, sizeof path, "%s/demo.log", dir);
	if (log_open(path, LOG_INFO) != 0)
		log_set_level(LOG_OFF);
	snprintf(path, sizeof path, "%s/state", dir);
	if (mkdir(path, 0700) != 0 || setenv("XDG_STATE_HOME", path, 1) != 0) {
		fprintf(stderr, "bgswitch demo: cannot create %s: %s\n", path, strerror(errno));
		goto out;
	}

	/* Headless: signals go to one thread that asks the engine to stop;
	 * the simulator's and the engine's threads inherit the mask.  With
	 * the screen, the UI owns the signals. */
	signal(SIGPIPE, SIG_IGN);
	if (headless)
		headless_signals(&d);

	so.dir = dir;
	if (sim_start(&so, err, sizeof err) != 0) {
		fprintf(stderr, "bgswitch demo: the simulator did not start: %s\n", err);
		goto out;
	}
	sim_up = 1;
	if (load_env(dir, err, sizeof err) != 0 || shorten_ttl(dir, err, sizeof err) != 0
	    || write_config(dir, cfg, sizeof cfg, err, sizeof err) != 0) {
		fprintf(stderr, "bgswitch demo: %s\n", err);
		goto out;
	}
	log_info("demo", "simulator at %s; config %s", sim_base_url(), cfg);
	if (headless)
		fprintf(stderr, "bgswitch demo: simulator at %s, config %s\n", sim_base_url(), cfg);

	eo.config_path = cfg;
	eo.observe_ms = 2000;		/* a livelier screen; the simulator is local */
	if (headless) {
		eo.on_event = headless_on_event;
		eo.event_ctx = &d;
	}
	if ((e = eng_new(&eo, err, sizeof err, &code)) == NULL) {
		fprintf(stderr, "bgswitch demo: the bundled config does not load (a bug): %s\n", err);
		code = CLI_EXIT_FAIL;
		goto out;
	}
	snprintf(d.blue, sizeof d.blue, "%s", eng_blue_name(e));
	headless_attach(&d, e);
	if ((code = eng_start(e, err, sizeof err)) != 0) {
		fprintf(stderr, "bgswitch demo: %s\n", err);
		goto out;
	}
	if (headless) {
		code = eng_join(e);
	} else {
		struct eng_model *m;

		uo.theme = theme;
		uo.force_mono = no_color;
		uo.title = "bgswitch demo";
		if (ui_run(e, &uo, err, sizeof err) != 0) {
			fprintf(stderr, "bgswitch demo: %s (--headless runs it without a screen)\n", err);
			eng_post(e, ENG_CMD_ABORT, NULL, err, sizeof err);
			eng_join(e);
			code = CLI_EXIT_FAIL;
			goto out;
		}
		if ((m = malloc(sizeof *m)) != NULL) {
			eng_snapshot(e, m);
			if (!m->finished)
				eng_post(e, ENG_CMD_ABORT, "bgswitch demo: the operator left", err, sizeof err);
			free(m);
		}
		code = eng_join(e);
	}
out:
	headless_attach(&d, NULL);
	eng_free(e);
	if (sim_up)
		sim_stop();
	log_close();
	if (keep)
		fprintf(stderr, "bgswitch demo: kept %s (config %s, journal in state/, log demo.log)\n", dir,
		    DEMO_CONFIG);
	else
		remove_tree(dir);
	return code;
}
