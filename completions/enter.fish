# fish completion for enter(1), enter-rebuild(1) and enter-deploy(1);
# installed once under each name. tests/meta/options.sh compares the
# options with each program's --help.

# __enter_positional N: the word being completed is the Nth that is neither
# an option nor an option's value (1: ROOT, 2: ACTION or GOAL).
function __enter_positional
    set -l words (commandline -opc)
    set -l n 0
    set -l skip 0
    for w in $words[2..-1]
        if test $skip -gt 0
            set skip (math $skip - 1)
            continue
        end
        switch $w
            case --
                return 1
            case --bind --ro-bind
                set skip 2
            case '--*=*'
            case --root -c --command --system --hostname --boot --boot-min-free --setenv --keep-env --unsetenv --preserve-fds --flake --node --hive --root-device --root-options --luks --key-file
                set skip 1
            case '-*'
            case '*'
                set n (math $n + 1)
        end
    end
    test $skip -eq 0 -a (math $n + 1) -eq $argv[1]
end

for cmd in enter enter-rebuild enter-deploy
    complete -c $cmd -e
    complete -c $cmd -l system -r -F -d 'system profile inside ROOT'
    complete -c $cmd -l silent -d 'hide the output of activation'
    complete -c $cmd -l no-activate -d 'do not run $system/activate'
    complete -c $cmd -l strict -d 'a failing activation is an error'
    complete -c $cmd -l hostname -x -d 'hostname inside'
    complete -c $cmd -l tmpfs-tmp -d 'a fresh tmpfs on /tmp'
    complete -c $cmd -l no-resolv -d "do not bind the rescue system's resolv.conf"
    complete -c $cmd -l boot -r -F -a 'auto none' -d 'where /boot comes from'
    complete -c $cmd -l fstab -d "mount every local filesystem of the target's fstab"
    complete -c $cmd -l boot-min-free -x -d 'warn when /boot has less free space'
    complete -c $cmd -l root-device -r -F -d 'mount DEV as the root, inside the run only'
    complete -c $cmd -l root-options -x -d 'mount options of --root-device'
    complete -c $cmd -l luks -r -F -d 'open a LUKS container before, close it after'
    complete -c $cmd -l key-file -r -F -d 'the key of NAME, or of all'
    complete -c $cmd -l keep -d 'leave open at the end what was opened'
    complete -c $cmd -l bind -r -F -d 'bind SRC on DST inside ROOT'
    complete -c $cmd -l ro-bind -r -F -d 'bind SRC on DST inside ROOT, read-only'
    complete -c $cmd -l setenv -x -d 'set NAME=VALUE for the command'
    complete -c $cmd -l keep-env -x -a '(set -n -x)' -d 'pass a variable through'
    complete -c $cmd -l unsetenv -x -a '(set -n -x)' -d 'remove a variable'
    complete -c $cmd -l preserve-fds -x -d 'pass fds 3 .. N+2 to the command'
    complete -c $cmd -l hardened -d 'fewer capabilities and a seccomp filter'
    complete -c $cmd -l dry-run -d 'print the plan, change nothing'
    complete -c $cmd -l json -d 'machine-readable output'
    complete -c $cmd -s v -l verbose -d 'say what is being done'
    complete -c $cmd -s h -l help -d 'show the help'
    complete -c $cmd -l version -d 'show the version'
end

complete -c enter -l root -x -a '(__fish_complete_directories)' -d 'the target root'
complete -c enter -s c -l command -x -d "run STRING with the target's shell"
complete -c enter -l generic -d 'any Linux root: no etc/NIXOS needed, no activation'
complete -c enter -l check -d 'report what a rebuild would find'

complete -c enter-rebuild -l flake -r -F -d 'flake reference or directory'
complete -c enter-rebuild -n '__enter_positional 2' -x -a 'boot switch test build dry-build dry-activate'

complete -c enter-deploy -l node -x -d 'the node to deploy'
complete -c enter-deploy -l hive -x -a '(__fish_complete_directories)' -d 'the directory with hive.nix or flake.nix'
complete -c enter-deploy -n '__enter_positional 2' -x -a 'boot switch test dry-activate build'
