; A small Windows installer around Patchbay's own installer hooks, built with Debian's makensis
; by tests/install/windows.rs and run under Wine. The bundler's NSIS installer cannot be made
; here (its nsis_tauri_utils plugin is downloaded from the internet); this one installs the
; same programs the same way (per user, into the user's own programs folder, no admin rights)
; and runs the same hooks file at the same moments: after installing, before uninstalling.
;
;   makensis -DBIN=<folder with patchbay.exe, patchbay-app.exe> -DHOOKS=<installer-hooks.nsh>
;            -DOUT=<setup.exe> installer.nsi

Unicode true
!ifndef BIN | HOOKS | OUT
  !error "makensis -DBIN=... -DHOOKS=... -DOUT=... installer.nsi"
!endif

Name "Patchbay"
OutFile "${OUT}"
RequestExecutionLevel user
; Where the bundler's currentUser installer puts the app.
InstallDir "$LOCALAPPDATA\Patchbay"
SilentInstall silent
SilentUnInstall silent

!include "${HOOKS}"

Section "Install"
  SetOutPath "$INSTDIR"
  ; The bundler names the app after the product, and the command line by its externalBin name.
  File "/oname=Patchbay.exe" "${BIN}\patchbay-app.exe"
  File "${BIN}\WebView2Loader.dll"
  File "${BIN}\patchbay.exe"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  !insertmacro NSIS_HOOK_POSTINSTALL
SectionEnd

Section "Uninstall"
  !insertmacro NSIS_HOOK_PREUNINSTALL
  Delete "$INSTDIR\Patchbay.exe"
  Delete "$INSTDIR\WebView2Loader.dll"
  Delete "$INSTDIR\patchbay.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
SectionEnd
