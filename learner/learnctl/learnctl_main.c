// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* learnctl's main(): the work is in lc_main() (learnctl.c), which the argument
 * fuzz target (tests/fuzz/fuzz_learnctl.c) calls too. */
#include "learnctl.h"

int main(int argc, char **argv)
{
	return lc_main(argc, argv);
}
