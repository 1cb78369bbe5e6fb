# bash completion for enter(1), enter-rebuild(1) and enter-deploy(1);
# installed once under each name. tests/meta/options.sh compares the
# options with each program's --help.

_enter_options() {
	local common='--system --silent --no-activate --strict --hostname --tmpfs-tmp
		--no-resolv --boot --fstab --boot-min-free --root-device --root-options
		--luks --key-file --keep --bind --ro-bind --setenv
		--keep-env --unsetenv --preserve-fds --hardened --dry-run --json
		-v --verbose -h --help --version'
	case $1 in
	enter) echo "--root -c --command --generic --check $common" ;;
	enter-rebuild) echo "--flake $common" ;;
	enter-deploy) echo "--node --hive $common" ;;
	esac
}

# Options that take the next word as their value (--bind and --ro-bind two).
_enter_takes_value() {
	case $1 in
	--root | -c | --command | --system | --hostname | --boot | --boot-min-free | --setenv | \
		--keep-env | --unsetenv | --preserve-fds | --flake | --node | --hive | --root-device | \
		--root-options | --luks | --key-file) return 0 ;;
	esac
	return 1
}

_enter() {
	local cur prev words cword split cmd=${1##*/} i positional=0
	_init_completion -s || return

	# After --, the command inside ROOT: nothing to offer from here.
	# Before the word completed: how many ROOT, ACTION words came already.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--) return ;;
		--bind | --ro-bind) ((i += 2)) ;;
		--*=*) ;;
		-*) ! _enter_takes_value "${words[i]}" || ((i++)) ;;
		*) ((positional++)) ;;
		esac
	done
	case $prev in
	--root | --hive)
		_filedir -d
		return
		;;
	--system | --flake | --root-device | --luks | --key-file)
		_filedir
		return
		;;
	--boot)
		mapfile -t COMPREPLY < <(compgen -W 'auto none' -- "$cur")
		_filedir
		return
		;;
	--bind | --ro-bind)
		_filedir
		return
		;;
	--keep-env | --unsetenv)
		mapfile -t COMPREPLY < <(compgen -v -- "$cur")
		return
		;;
	-c | --command | --hostname | --boot-min-free | --setenv | --preserve-fds | --node | \
		--root-options)
		return
		;;
	esac
	# The DST of --bind SRC DST is a path inside ROOT: nothing to offer.
	if ((cword >= 3)) && [[ ${words[cword - 2]} == --bind || ${words[cword - 2]} == --ro-bind ]]; then
		return
	fi
	$split && return
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_enter_options "$cmd")" -- "$cur")
		return
	fi
	if ((positional == 0)); then
		_filedir -d # ROOT
		return
	fi
	case $cmd:$positional in
	enter-rebuild:1)
		mapfile -t COMPREPLY < <(compgen -W 'boot switch test build dry-build dry-activate' -- "$cur")
		;;
	enter-deploy:1)
		mapfile -t COMPREPLY < <(compgen -W 'boot switch test dry-activate build' -- "$cur")
		;;
	esac
} &&
	complete -F _enter enter enter-rebuild enter-deploy
