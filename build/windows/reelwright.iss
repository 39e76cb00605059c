; Inno Setup script: the Windows installer around the one-folder build (dist\Reelwright).
;   iscc /DAppVersion=0.1.0 /DSourceDir=C:\...\dist\Reelwright /ODist build\windows\reelwright.iss
; Per-user by default (no admin rights: the app writes only to the user's folders); an administrator can
; choose "install for all users" in the wizard.  Built and self-tested by .github/workflows/package.yml
; (make -f build/ci.mk package-installer installer-check).  Windows associates files by their last
; extension only, so job bundles (.reelwright.zip) are not claimed: they stay zip files there.

#ifndef AppVersion
  #error AppVersion must be defined (/DAppVersion=...)
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\Reelwright"
#endif

[Setup]
AppId={{5B7B7B0E-6C2B-4F61-9D0C-5E1E7E2A9C41}
AppName=Reelwright
AppVersion={#AppVersion}
AppVerName=Reelwright {#AppVersion}
AppPublisher=Reelwright
AppPublisherURL=https://github.com/reelwright/reelwright
DefaultDirName={autopf}\Reelwright
DefaultGroupName=Reelwright
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=Reelwright-{#AppVersion}-windows-x86_64-setup
Compression=lzma2/ultra64
SolidCompression=yes
LZMANumBlockThreads=4
WizardStyle=modern
UninstallDisplayIcon={app}\Reelwright.exe

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Reelwright"; Filename: "{app}\Reelwright.exe"
Name: "{autodesktop}\Reelwright"; Filename: "{app}\Reelwright.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\Reelwright.exe"; Description: "{cm:LaunchProgram,Reelwright}"; Flags: nowait postinstall skipifsilent
