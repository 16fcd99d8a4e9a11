; Patchbay's additions to Tauri's NSIS installer (bundle.windows.nsis.installerHooks). The
; `patchbay` command line is installed next to the app (bundle.externalBin); these hooks put that
; folder on the user's own PATH (per user, no admin rights) and take it off on uninstall, through
; `patchbay path add|remove` (the list editing is tested in cli/src/user_path.rs). Then running
; programs are told the environment changed (WM_SETTINGCHANGE to every top-level window), so a
; terminal opened afterwards finds `patchbay`.

!macro NSIS_HOOK_POSTINSTALL
  nsExec::ExecToLog '"$INSTDIR\patchbay.exe" path add "$INSTDIR"'
  Pop $0
  SendMessage 0xFFFF 0x001A 0 "STR:Environment" /TIMEOUT=5000
!macroend

!macro NSIS_HOOK_PREUNINSTALL
  ; The daily check ("Keep my connections fresh"), if it was on, goes with the app.
  nsExec::ExecToLog '"$INSTDIR\patchbay.exe" keep-fresh off'
  Pop $0
  nsExec::ExecToLog '"$INSTDIR\patchbay.exe" path remove "$INSTDIR"'
  Pop $0
  SendMessage 0xFFFF 0x001A 0 "STR:Environment" /TIMEOUT=5000
!macroend
